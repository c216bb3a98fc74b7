/* fuzz_threshold: threshold expressions and metric keys (engine/stats/threshold.c), as they come
 * from scripts and --threshold. Input: "KEY\0EXPR", or a whole --threshold argument when there
 * is no NUL. A parsed threshold is also evaluated on an empty aggregate. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz_util.h"
#include "threshold.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void parse_and_eval(const char *key, const char *expr)
{
    struct tide_threshold t;
    struct tide_err err;
    if (tide_threshold_parse(key, expr, &t, &err) != 0)
        return;
    char name[64];
    tide_threshold_agg_name(&t, name, sizeof name);
    struct tide_agg a;
    memset(&a, 0, sizeof a);
    double observed = tide_threshold_observe(&t, &a);
    (void)tide_threshold_holds(&t, observed);
    tide_threshold_fini(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_string(data, size);
    if (strlen(s) < size) {
        parse_and_eval(s, fuzz_second(s, size));
    } else {
        size_t keylen;
        const char *expr;
        struct tide_err err;
        if (tide_threshold_split_cli(s, &keylen, &expr, &err) == 0) {
            char *key = malloc(keylen + 1);
            memcpy(key, s, keylen);
            key[keylen] = '\0';
            parse_and_eval(key, expr);
            free(key);
        }
        struct tide_metric_key k;
        if (tide_metric_key_parse(s, &k, &err) == 0)
            tide_metric_key_fini(&k);
    }
    free(s);
    return 0;
}
