/* fuzz_duration: durations as users write them ("1h30m", "1.5s"; engine/base/duration.c). */
#include <stdint.h>
#include <stdlib.h>
#include "duration.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_string(data, size);
    int64_t us = 0;
    struct tide_err err;
    if (tide_duration_parse(s, &us, &err) == 0 && us < 0)
        abort(); /* a parsed duration is never negative */
    free(s);
    return 0;
}
