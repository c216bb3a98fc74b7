/* Unit tests of secret redaction (base/log.c): tide_redact, tide_redact_buf, tide_redact_json
 * and tide_log: secrets in keys and values, overlapping secrets, a secret cut at a buffer's
 * edge, and a log line longer than the printed limit with a secret across the cut. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cJSON.h>
#include "../check.h"
#include "log.h"

/* What a writer with a fixed buffer does: copies what fits and cuts the rest. */
static void cut_copy(char *dst, size_t len, const char *src)
{
    size_t n = strlen(src) < len - 1 ? strlen(src) : len - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static void check_redact(const char *in, const char *want)
{
    char *out = tide_redact(in);
    CHECK_STR(out, want);
    free(out);
}

static void test_redact_basic(void)
{
    tide_secrets_clear();
    check_redact("token s3cr3t here", "token s3cr3t here"); /* nothing registered */
    tide_secret_add("s3cr3t");
    tide_secret_add("xy"); /* too short: would redact everything */
    tide_secret_add(NULL);
    tide_secret_add("s3cr3t"); /* twice is once */
    check_redact("token s3cr3t here", "token *** here");
    check_redact("s3cr3ts3cr3t", "***"); /* adjacent occurrences: one span */
    check_redact("s3cr3t-s3cr3t", "***-***");
    check_redact("xy and x y", "xy and x y");
    check_redact("", "");
    check_redact(NULL, "");
    check_redact("s3cr3", "s3cr3"); /* a part, in the middle of a text, is not the secret */
    tide_secrets_clear();
    check_redact("token s3cr3t", "token s3cr3t");
}

static void test_redact_overlapping(void)
{
    tide_secrets_clear();
    tide_secret_add("abcdef");
    tide_secret_add("defghi");
    /* one after the other would give "***ghi": the tail of the second secret */
    check_redact("<abcdefghi>", "<***>");
    check_redact("<defghiabcdef>", "<***>");
    tide_secret_add("aaa");
    check_redact("aaaa!", "***!"); /* overlapping occurrences of one secret */
    tide_secret_add("password123");
    tide_secret_add("password"); /* a secret inside another */
    check_redact("p=password123;q=password", "p=***;q=***");
    tide_secrets_clear();
}

static void test_redact_buf(void)
{
    tide_secrets_clear();
    tide_secret_add("hunter22");
    char buf[64];
    snprintf(buf, sizeof buf, "login failed for hunter22 (hunter22)");
    tide_redact_buf(buf, sizeof buf);
    CHECK_STR(buf, "login failed for *** (***)");

    /* A secret at the cut edge: the writer cut "hunter22" to "hunt"; the full buffer's tail
     * starts a secret, so it is hidden too. */
    char small[11];
    cut_copy(small, sizeof small, "pw is hunter22!");
    CHECK_STR(small, "pw is hunt");
    tide_redact_buf(small, sizeof small);
    CHECK(strstr(small, "hunt") == NULL);
    CHECK_STR(small, "pw is ***");
    /* a one-letter start is hidden too; three bytes may overwrite the text before it */
    char tiny[8];
    cut_copy(tiny, sizeof tiny, "abcdefhunter");
    CHECK_STR(tiny, "abcdefh");
    tide_redact_buf(tiny, sizeof tiny);
    CHECK_STR(tiny, "abcd***");
    /* a buffer that is not full was not cut: its tail is left alone */
    char roomy[32];
    snprintf(roomy, sizeof roomy, "user hunt");
    tide_redact_buf(roomy, sizeof roomy);
    CHECK_STR(roomy, "user hunt");
    /* a full buffer whose tail starts no secret is left alone */
    char full[10];
    cut_copy(full, sizeof full, "0123456789abc");
    tide_redact_buf(full, sizeof full);
    CHECK_STR(full, "012345678");
    tide_redact_buf(full, 0); /* nothing to do, no write */
    tide_secrets_clear();
}

static void test_redact_json(void)
{
    tide_secrets_clear();
    tide_secret_add("t0ken-XYZ");
    cJSON *j = cJSON_Parse("{\"header\":\"Bearer t0ken-XYZ\",\"t0ken-XYZ\":1,"
                           "\"list\":[\"a\",\"t0ken-XYZt0ken-XYZ\",{\"deep t0ken-XYZ\":\"ok\"}],"
                           "\"n\":42,\"b\":true}");
    CHECK(j != NULL);
    tide_redact_json(j);
    char *text = cJSON_PrintUnformatted(j);
    CHECK_STR(text, "{\"header\":\"Bearer ***\",\"***\":1,\"list\":[\"a\",\"***\",{\"deep ***\":"
                    "\"ok\"}],\"n\":42,\"b\":true}");
    cJSON *again = cJSON_Parse(text); /* still a document */
    CHECK(again != NULL);
    cJSON_Delete(again);
    free(text);
    cJSON_Delete(j);
    tide_redact_json(NULL);
    tide_secrets_clear();
}

/* tide_log prints at most 2047 bytes of a message: a secret across that limit must not show
 * its first part (the message is redacted whole, then cut). */
static void test_log_redacts_before_cutting(void)
{
    tide_secrets_clear();
    tide_secret_add("CUT-EDGE-SECRET");
    char path[] = "/tmp/tide-test-redact-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    char *msg = malloc(4096);
    memset(msg, 'x', 4096);
    memcpy(msg + 2040, "CUT-EDGE-SECRET", 15); /* straddles byte 2047 */
    msg[2100] = '\0';
    tide_log(TIDE_LOG_ERROR, "%s", msg);
    tide_log(TIDE_LOG_ERROR, "short CUT-EDGE-SECRET line");
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    char out[8192] = {0};
    ssize_t n = pread(fd, out, sizeof out - 1, 0);
    close(fd);
    unlink(path);
    CHECK(n > 0);
    CHECK(strstr(out, "CUT-") == NULL);
    CHECK(strstr(out, "SECRET") == NULL);
    CHECK(strstr(out, "xxx***xxx") != NULL);
    CHECK(strstr(out, "tide: short *** line\n") != NULL);
    free(msg);
    tide_secrets_clear();
}

/* Whatever tide writes is valid UTF-8: invalid bytes become U+FFFD (or '?' in place), with
 * or without secrets (issue 15, tests/e2e/test_output_validity.py). */
static void test_redact_makes_valid_utf8(void)
{
    tide_secrets_clear();
    check_redact("name \xff\xfe ok \xc3\xa9", "name \xef\xbf\xbd\xef\xbf\xbd ok \xc3\xa9");
    CHECK(tide_redact_changes("a\xff"));
    CHECK(!tide_redact_changes("plain"));
    char buf[16];
    snprintf(buf, sizeof buf, "a\xff b\xc3\xa9\xed");
    tide_redact_buf(buf, sizeof buf);
    CHECK_STR(buf, "a? b\xc3\xa9?");
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "k\xff", "v\xfe");
    tide_redact_json(j);
    char *text = cJSON_PrintUnformatted(j);
    CHECK_STR(text, "{\"k\xef\xbf\xbd\":\"v\xef\xbf\xbd\"}");
    free(text);
    cJSON_Delete(j);
}

int main(void)
{
    test_redact_basic();
    test_redact_overlapping();
    test_redact_buf();
    test_redact_json();
    test_log_redacts_before_cutting();
    test_redact_makes_valid_utf8();
    return CHECK_DONE();
}
