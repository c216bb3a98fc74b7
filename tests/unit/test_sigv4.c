/* Unit tests of export/sigv4.c against AWS's published Signature Version 4 examples: the
 * test suite's get-vanilla and get-vanilla-query-order-key-case (AKIDEXAMPLE, us-east-1,
 * service "service", 20150830T123600Z) and the S3 documentation's GET Object example
 * (examplebucket, test.txt, Range, x-amz-content-sha256, 20130524T000000Z). Each checks the
 * canonical request, the string to sign and the signature, so a wrong step is named. */
#include <stdlib.h>
#include "../check.h"
#include "sigv4.h"

#define EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static const char suite_secret[] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

static void check_owned(char *got, const char *want)
{
    CHECK_STR(got, want);
    free(got);
}

static void get_vanilla(void)
{
    struct tide_sigv4_header h[] = {{"Host", "example.amazonaws.com"},
                                    {"X-Amz-Date", "20150830T123600Z"}};
    struct tide_sigv4_request r = {"GET",       "/",      "", h, 2, EMPTY, "20150830T123600Z",
                                   "us-east-1", "service"};
    check_owned(tide_sigv4_canonical_request(&r), "GET\n/\n\n"
                                                  "host:example.amazonaws.com\n"
                                                  "x-amz-date:20150830T123600Z\n\n"
                                                  "host;x-amz-date\n" EMPTY);
    check_owned(tide_sigv4_string_to_sign(&r),
                "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
                "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
    char sig[65];
    check_owned(tide_sigv4_authorization(&r, "AKIDEXAMPLE", suite_secret, sig),
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
                "SignedHeaders=host;x-amz-date, "
                "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
    CHECK_STR(sig, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
    /* A header value's outer spaces and inner runs of spaces do not change the signature. */
    struct tide_sigv4_header spaced[] = {{"host", "  example.amazonaws.com "},
                                         {"x-amz-date", "20150830T123600Z"}};
    r.headers = spaced;
    char sig2[65];
    free(tide_sigv4_authorization(&r, "AKIDEXAMPLE", suite_secret, sig2));
    CHECK_STR(sig2, sig);
}

static void query_order(void)
{
    struct tide_sigv4_header h[] = {{"host", "example.amazonaws.com"},
                                    {"x-amz-date", "20150830T123600Z"}};
    struct tide_sigv4_request r = {
        "GET",       "/",      "Param2=value2&Param1=value1", h, 2, EMPTY, "20150830T123600Z",
        "us-east-1", "service"};
    char *creq = tide_sigv4_canonical_request(&r);
    CHECK(creq != NULL && strstr(creq, "\nParam1=value1&Param2=value2\n") != NULL);
    free(creq);
    char sig[65];
    free(tide_sigv4_authorization(&r, "AKIDEXAMPLE", suite_secret, sig));
    CHECK_STR(sig, "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
    /* Sorted by name, then value: "Param1" before "Param10" although '0' < '='. */
    r.query = "Param10=a&Param1=b&Param1=a";
    creq = tide_sigv4_canonical_request(&r);
    CHECK(creq != NULL && strstr(creq, "\nParam1=a&Param1=b&Param10=a\n") != NULL);
    free(creq);
}

static void s3_get_object(void)
{
    struct tide_sigv4_header h[] = {{"Host", "examplebucket.s3.amazonaws.com"},
                                    {"Range", "bytes=0-9"},
                                    {"x-amz-content-sha256", EMPTY},
                                    {"x-amz-date", "20130524T000000Z"}};
    struct tide_sigv4_request r = {"GET", "/test.txt",        NULL,        h,   4,
                                   EMPTY, "20130524T000000Z", "us-east-1", "s3"};
    check_owned(tide_sigv4_canonical_request(&r),
                "GET\n/test.txt\n\n"
                "host:examplebucket.s3.amazonaws.com\n"
                "range:bytes=0-9\n"
                "x-amz-content-sha256:" EMPTY "\n"
                "x-amz-date:20130524T000000Z\n\n"
                "host;range;x-amz-content-sha256;x-amz-date\n" EMPTY);
    check_owned(tide_sigv4_string_to_sign(&r),
                "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
                "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
    char sig[65];
    free(tide_sigv4_authorization(&r, "AKIAIOSFODNN7EXAMPLE",
                                  "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", sig));
    CHECK_STR(sig, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

static void encoding(void)
{
    check_owned(tide_sigv4_uri_encode("run 1/a+b~_.-é", 1), "run%201/a%2Bb~_.-%C3%A9");
    check_owned(tide_sigv4_uri_encode("a/b", 0), "a%2Fb");
    char hex[65];
    tide_sigv4_sha256_hex("", 0, hex);
    CHECK_STR(hex, EMPTY);
}

int main(void)
{
    get_vanilla();
    query_order();
    s3_get_object();
    encoding();
    return CHECK_DONE();
}
