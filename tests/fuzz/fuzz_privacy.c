/* fuzz_privacy: the privacy filter and secret redaction (engine/base/privacy.c, log.c) on
 * arbitrary bytes, as everything tide writes passes through them. Input: "SECRET\0TEXT" (a
 * registered secret, then the text), or TEXT alone. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz_util.h"
#include "log.h"
#include "privacy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_string(data, size);
    const char *text = s;
    tide_secrets_clear();
    if (strlen(s) < size) {
        tide_secret_add(s);
        text = fuzz_second(s, size);
    }
    tide_privacy_set_enabled(true);
    char *r = tide_redact(text);
    if (r == NULL)
        abort();
    free(r);
    char *f = tide_privacy_filter(text);
    free(f);
    char *v = tide_privacy_filter_value("authorization", text);
    free(v);
    size_t n = strlen(text);
    char *buf = fuzz_string((const uint8_t *)text, n);
    tide_redact_buf(buf, n + 1);
    tide_privacy_filter_buf(buf, n + 1);
    free(buf);
    char small[16]; /* a buffer its writer filled and cut */
    snprintf(small, sizeof small, "%s", text);
    tide_redact_buf(small, sizeof small);
    tide_privacy_filter_buf(small, sizeof small);
    free(s);
    return 0;
}
