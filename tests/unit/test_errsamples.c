/* Unit tests of sampled error bodies (core/errsamples.c): at most 3 per kind, every offer
 * counted, 512 bytes at most, secrets and personal data hidden even when they cross the cut,
 * binary bodies kept as valid text, and none with samples off (--no-samples). */
#include <stdlib.h>
#include <string.h>
#include <cJSON.h>
#include "../check.h"
#include "errsamples.h"
#include "log.h"
#include "privacy.h"

static void test_caps_and_filter(void)
{
    tide_errsamples_clear();
    tide_secrets_clear();
    tide_secret_add("S3cr3t-Value-99");
    char body[2000];
    memset(body, 'x', sizeof body);
    /* a secret and an e-mail across the 512-byte cut */
    memcpy(body + 505, "S3cr3t-Value-99", 15);
    memcpy(body + 530, " jane@example.com ", 18);
    memcpy(body + 500, " ", 1);
    for (int i = 0; i < 5; i++)
        tide_errsamples_offer("GET", "/a", "HTTP 500", body, sizeof body);
    tide_errsamples_offer("GET", "/b", "HTTP 404", "card 4111111111111111", 21);
    tide_errsamples_offer("GET", "/b", "HTTP 404", "", 0); /* nothing to keep */
    tide_errsamples_offer("GET", "/c", "HTTP 400", "bin\0\xff\xfe", 6);
    cJSON *j = tide_errsamples_json();
    CHECK(cJSON_GetArraySize(j) == 3);
    cJSON *a = cJSON_GetArrayItem(j, 0);
    CHECK(cJSON_GetObjectItem(a, "count")->valuedouble == 5);
    cJSON *s = cJSON_GetObjectItem(a, "samples");
    CHECK(cJSON_GetArraySize(s) == 3);
    const char *first = cJSON_GetArrayItem(s, 0)->valuestring;
    CHECK(strlen(first) <= 512);
    CHECK(strstr(first, "S3cr") == NULL && strstr(first, "jane") == NULL);
    cJSON *b = cJSON_GetArrayItem(j, 1);
    const char *card = cJSON_GetArrayItem(cJSON_GetObjectItem(b, "samples"), 0)->valuestring;
    CHECK(strstr(card, "4111") == NULL && strstr(card, "[card:") != NULL);
    cJSON *c = cJSON_GetArrayItem(j, 2);
    const char *bin = cJSON_GetArrayItem(cJSON_GetObjectItem(c, "samples"), 0)->valuestring;
    CHECK_STR(bin, "bin \xef\xbf\xbd\xef\xbf\xbd"); /* each byte that is not UTF-8: U+FFFD */
    cJSON_Delete(j);
    tide_errsamples_clear();
    tide_secrets_clear();
}

static void test_off(void)
{
    tide_privacy_set_samples(false);
    tide_errsamples_offer("GET", "/a", "HTTP 500", "body", 4);
    CHECK(tide_errsamples_json() == NULL);
    tide_privacy_reset();
    tide_errsamples_offer("GET", "/a", "HTTP 500", "body", 4);
    cJSON *j = tide_errsamples_json();
    CHECK(j != NULL);
    cJSON_Delete(j);
    tide_errsamples_clear();
}

int main(void)
{
    test_caps_and_filter();
    test_off();
    return CHECK_DONE();
}
