/* duration.h: durations as users write them ("500ms", "30s", "5m", "1h30m", "1.5s"). */
#ifndef TIDE_DURATION_H
#define TIDE_DURATION_H
#include <stdint.h>
#include "err.h"

/* Parses 's' into microseconds. A bare number means seconds. Units: us, ms, s, m, h, d.
 * Returns 0, or -1 with a message naming the text and the expected form. */
int tide_duration_parse(const char *s, int64_t *us, struct tide_err *err);

#endif
