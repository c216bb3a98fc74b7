/* Unit tests of the privacy filter (base/privacy.c): every detector on true positives and on
 * near misses that must stay as they are (a 16-digit number failing Luhn, timestamps, dates,
 * version numbers, ordinary words), equal values getting equal pseudonyms, idempotence, user
 * rules, keep, off, the buffer variant and its wiring into tide_redact/tide_redact_json. */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cJSON.h>
#include "../check.h"
#include "log.h"
#include "privacy.h"

static char *filt(const char *s)
{
    static char last[2048];
    char *f = tide_privacy_filter(s);
    snprintf(last, sizeof last, "%s", f != NULL ? f : "(null)");
    free(f);
    return last;
}

/* The filtered text matches the POSIX extended regex 'want' (whole string). */
#define CHECK_LIKE(in, want)                                                                       \
    do {                                                                                           \
        const char *got_ = filt(in);                                                               \
        regex_t re_;                                                                               \
        CHECK(regcomp(&re_, "^" want "$", REG_EXTENDED | REG_NOSUB) == 0);                         \
        int ok_ = regexec(&re_, got_, 0, NULL, 0) == 0;                                            \
        regfree(&re_);                                                                             \
        if (!ok_)                                                                                  \
            fprintf(stderr, "  %s -> %s (wanted %s)\n", in, got_, want);                           \
        CHECK(ok_);                                                                                \
    } while (0)

#define SAME(in) CHECK_STR(filt(in), in)
#define H        "[0-9a-f]{8}\\]"

static void test_email(void)
{
    CHECK_LIKE("/users/jane.doe@example.com/orders", "/users/\\[email:" H "/orders");
    CHECK_LIKE("mail jane.doe%40example.com now", "mail \\[email:" H " now");
    CHECK_LIKE("to: A.B+tag@mail.example.co.uk.", "to: \\[email:" H "\\.");
    SAME("user@localhost");    /* no top-level domain */
    SAME("me@127.0.0.1");      /* an address, not a mail domain */
    SAME("@handle and a@b.c"); /* a one-letter TLD is none */
    /* equal addresses (case aside) group, different ones do not */
    char a[64], b[64], c[64];
    snprintf(a, sizeof a, "%s", filt("jane@example.com"));
    snprintf(b, sizeof b, "%s", filt("Jane@Example.com"));
    snprintf(c, sizeof c, "%s", filt("john@example.com"));
    CHECK_STR(a, b);
    CHECK(strcmp(a, c) != 0);
}

static void test_userinfo(void)
{
    CHECK_STR(filt("http://admin:Hunter2-S3cret@127.0.0.1:8080/x"), "http://***@127.0.0.1:8080/x");
    CHECK_STR(filt("see https://tok@api.example.com/"), "see https://***@api.example.com/");
    SAME("http://127.0.0.1:8080/users?x");
    SAME("http://***@127.0.0.1/");
}

static void test_jwt_bearer_headers(void)
{
    const char *jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N";
    char in[256];
    snprintf(in, sizeof in, "token %s expired", jwt);
    CHECK_LIKE(in, "token \\[jwt:" H " expired");
    CHECK_LIKE("Bearer abc123XYZ.def", "Bearer \\[token:" H);
    CHECK_LIKE("Authorization: Basic dXNlcjpwYXNz", "Authorization: \\[secret:" H);
    CHECK_LIKE("Cookie: sid=1; theme=dark\r\nHost: x", "Cookie: \\[secret:" H "\r\nHost: x");
    CHECK_LIKE("{\"set-cookie\":\"a=b; Path=/\"}", "\\{\"set-cookie\":\"\\[secret:" H "\"\\}");
    SAME("Basic checks passed"); /* a word, not a credential */
    SAME("the bearer of news");
    SAME("eyJ.x");
}

static void test_fields(void)
{
    CHECK_LIKE("/login?user=bob&password=pa55&next=/",
               "/login\\?user=bob&password=\\[secret:" H "&next=/");
    CHECK_LIKE("api_key=XYZ&sig=abc", "api_key=\\[secret:" H "&sig=\\[secret:" H);
    CHECK_LIKE("{\"access_token\": \"t0k\", \"n\": 1}",
               "\\{\"access_token\": \"\\[secret:" H "\", \"n\": 1\\}");
    SAME("monkey=banana&design=x");     /* 'key' and 'sig' inside a word are not the name */
    SAME("missing key: foo");           /* prose, not a field */
    SAME("password=");                  /* nothing to hide */
    SAME("http_req_duration{name:/x}"); /* tide's own names */
    CHECK(tide_privacy_sensitive_name("X-Api-Key"));
    CHECK(tide_privacy_sensitive_name("user_pwd"));
    CHECK(!tide_privacy_sensitive_name("keyboard"));
    CHECK(!tide_privacy_sensitive_name("status"));
}

static void test_cards(void)
{
    CHECK_LIKE("card 4111111111111111 ok", "card \\[card:" H " ok");
    CHECK_LIKE("card 4111 1111 1111 1111.", "card \\[card:" H "\\.");
    CHECK_LIKE("5500-0000-0000-0004", "\\[card:" H);
    CHECK_LIKE("amex 378282246310005", "amex \\[card:" H);
    SAME("4111111111111112");     /* fails Luhn */
    SAME("20261206035235");       /* a timestamp (14 digits starting with 2 is no card) */
    SAME("1733456789123");        /* a millisecond epoch */
    SAME("id 41111111111111110"); /* 17 digits: no card network uses that */
    SAME("abc4111111111111111");  /* inside a word */
    SAME("0.4111111111111111");   /* a fraction */
    CHECK_STR(filt("4111111111111111"), filt("4111-1111-1111-1111")); /* one card, one name */
}

static void test_iban(void)
{
    CHECK_LIKE("pay DE89370400440532013000 now", "pay \\[iban:" H " now");
    CHECK_LIKE("GB82 WEST 1234 5698 7654 32", "\\[iban:" H);
    CHECK_LIKE("iban=NL91ABNA0417164300", "iban=\\[iban:" H);
    SAME("DE89370400440532013001"); /* checksum fails */
    SAME("AB12CDEFGHIJKLMNOP");
    CHECK_STR(filt("GB82WEST12345698765432"), filt("GB82 WEST 1234 5698 7654 32"));
}

static void test_phone(void)
{
    CHECK_LIKE("call +44 20 7946 0958 now", "call \\[phone:" H " now");
    CHECK_LIKE("+4915112345678", "\\[phone:" H);
    CHECK_LIKE("tel (555) 123-4567.", "tel \\[phone:" H "\\.");
    CHECK_LIKE("555-123-4567", "\\[phone:" H);
    CHECK_LIKE("030 1234 5678", "\\[phone:" H);
    CHECK_LIKE("+44 (20) 7946 0958", "\\[phone:" H);
    SAME("2026-12-06 03:52:35"); /* a date and time */
    SAME("06.12.2026 03:52");
    SAME("version 1.2.3 build 456"); /* numbers, short */
    SAME("1733456789");              /* a unix time */
    SAME("+1 2");                    /* too short */
    SAME("p(95)<300 took 1234 ms");
    SAME("192.168.100.200"); /* an address */
}

static void test_idempotent_and_tokens(void)
{
    const char *in = "jane@example.com 4111111111111111 token=abc DE89370400440532013000";
    char once[512];
    snprintf(once, sizeof once, "%s", filt(in));
    CHECK_STR(filt(once), once);
    SAME("[email:12345678] [phone:87654321]");
    SAME("[dropped]");
}

static void test_rules_keep_off(void)
{
    struct tide_err err = {{0}};
    CHECK(tide_privacy_add_rule(TIDE_PRIVACY_DROP, "ORDER-[0-9]+", &err) == 0);
    CHECK(tide_privacy_add_rule(TIDE_PRIVACY_PSEUDONYMISE, "cust[a-z]+", &err) == 0);
    CHECK(tide_privacy_add_rule(TIDE_PRIVACY_DROP, "([unclosed", &err) == -1);
    CHECK(strstr(err.msg, "([unclosed") != NULL);
    CHECK_LIKE("ORDER-42 for custbob", "\\[dropped\\] for \\[pseudo:" H);
    CHECK(tide_privacy_keep("phone", &err) == 0);
    CHECK(tide_privacy_keep("session", &err) == 0);
    SAME("+4915112345678");
    SAME("session=abc");
    char *d = tide_privacy_describe();
    CHECK(d != NULL && strstr(d, "\"enabled\":true") != NULL);
    CHECK(d != NULL && strstr(d, "ORDER-[0-9]+") != NULL);
    CHECK(d != NULL && strstr(d, "\"keep\":[\"phone\",\"session\"]") != NULL);
    free(d);
    tide_privacy_reset();
    tide_privacy_set_enabled(false);
    SAME("jane@example.com");
    d = tide_privacy_describe();
    CHECK(d != NULL && strstr(d, "\"enabled\":false") != NULL);
    free(d);
    tide_privacy_reset();
}

static void test_wiring(void)
{
    tide_secrets_clear();
    char *r = tide_redact("user jane@example.com");
    CHECK(r != NULL && strstr(r, "jane") == NULL && strstr(r, "[email:") != NULL);
    free(r);
    char buf[24];
    snprintf(buf, sizeof buf, "%s", "to jane.doe@example.com");
    tide_redact_buf(buf, sizeof buf);
    CHECK(strstr(buf, "jane") == NULL && strstr(buf, "example") == NULL);
    cJSON *j = cJSON_Parse(
        "{\"password\":\"hunter22\",\"n\":\"x@example.org\",\"k\":[\"+4915112345678\"]}");
    tide_redact_json(j);
    char *t = cJSON_PrintUnformatted(j);
    CHECK(t != NULL && strstr(t, "hunter22") == NULL && strstr(t, "example.org") == NULL &&
          strstr(t, "4915112345678") == NULL);
    free(t);
    cJSON_Delete(j);
}

/* Not a test of speed (none asserts one): prints what naming a URL costs, for the report. */
static void measure(void)
{
    const char *names[] = {"/api/projects/{id}", "/users/{id}/orders", "/login"};
    struct timespec a, b;
    volatile int sink = 0;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < 300000; i++)
        sink += tide_privacy_may_match(names[i % 3]);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double clean = ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / 3e5;
    char buf[128];
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < 100000; i++) {
        snprintf(buf, sizeof buf, "%s", "/users/jane.doe@example.com/orders");
        tide_privacy_filter_buf(buf, sizeof buf);
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    double hit = ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / 1e5;
    printf("privacy filter on a URL name: %.0f ns without a match, %.0f ns with an e-mail%s\n",
           clean, hit, sink < 0 ? "" : "");
}

int main(void)
{
    test_email();
    test_userinfo();
    test_jwt_bearer_headers();
    test_fields();
    test_cards();
    test_iban();
    test_phone();
    test_idempotent_and_tokens();
    test_rules_keep_off();
    test_wiring();
    measure();
    return CHECK_DONE();
}
