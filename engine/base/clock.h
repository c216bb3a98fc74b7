/* clock.h: the clocks tide measures with: monotonic µs for durations, wall µs for timestamps. */
#ifndef TIDE_CLOCK_H
#define TIDE_CLOCK_H
#include <stddef.h>
#include <stdint.h>

int64_t tide_now_us(void);  /* CLOCK_MONOTONIC */
int64_t tide_wall_us(void); /* CLOCK_REALTIME, µs since the epoch */
/* RFC 3339 UTC with milliseconds: "2026-11-25T15:30:00.123Z" (buf >= 32 bytes). */
void tide_wall_format(int64_t wall_us, char *buf, size_t len);

#endif
