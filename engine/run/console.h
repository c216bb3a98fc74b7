/* console.h: what a person sees in the terminal: the live progress line (rewritten once a
 * second on a TTY, a plain line every 10 s otherwise) and the end-of-test summary. */
#ifndef TIDE_CONSOLE_H
#define TIDE_CONSOLE_H
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <cJSON.h>

struct tide_progress {
    int64_t elapsed_us, total_us; /* total 0: unknown */
    int vus;
    double iterations, reqs, fails, rps, p95_ms;
};

void tide_console_progress(FILE *out, bool tty, const struct tide_progress *p);
void tide_console_progress_end(FILE *out, bool tty);
/* Prints the k6-style metric block, the Locust-style endpoint table, checks and thresholds. */
void tide_console_summary(FILE *out, const cJSON *summary);

#endif
