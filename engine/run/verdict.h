/* verdict.h: a run's status and exit code (DESIGN.md's exit codes), from its outcome. */
#ifndef TIDE_VERDICT_H
#define TIDE_VERDICT_H
#include <stdbool.h>

struct tide_outcome {
    bool interrupted;     /* Ctrl-C or SIGTERM */
    bool aborted;         /* tide.abort() */
    bool thresholds_ok;   /* every threshold held */
    bool verify_failed;   /* verify() failed and options.verify_fails_run */
    bool saturated_fails; /* --fail-on-saturation and the generator was saturated */
    bool threshold_abort; /* an abort_on_fail threshold stopped the run */
};

/* The exit code; *status gets "passed", "failed", "aborted" or "interrupted". */
int tide_verdict(const struct tide_outcome *o, const char **status);

#endif
