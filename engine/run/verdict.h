/* verdict.h: a run's status and exit code (DESIGN.md's exit codes), from its outcome, and the
 * default checks that fail a run nobody guarded with thresholds (docs/cli.md "Exit codes"):
 * no request succeeded or too many failed, too many iterations raised, no iteration ran.
 * They appear in summary.json's thresholds with "source": "default"; a user threshold on the
 * same metric replaces one, --no-default-thresholds drops them all. Under Locust's flags
 * without any threshold, Locust's rule replaces them: any failure fails the run, exit 1 or
 * --exit-code-on-error N. */
#ifndef TIDE_VERDICT_H
#define TIDE_VERDICT_H
#include <stdbool.h>
#include <stddef.h>

/* The error-rate limits of the default checks: a share of requests that failed, and of
 * iterations that raised. */
#define TIDE_DEFAULT_MAX_FAILED       0.10
#define TIDE_DEFAULT_MAX_SCRIPT_ERROR 0.10
#define TIDE_LOCUST_EXIT_DEFAULT      1

enum tide_verdict_rule {
    TIDE_RULE_DEFAULTS, /* tide's default checks */
    TIDE_RULE_LOCUST,   /* Locust's: no failed request and no script error */
    TIDE_RULE_NONE,     /* --no-default-thresholds */
};

enum tide_default_id { TIDE_DEFAULT_REQUESTS, TIDE_DEFAULT_SCRIPT, TIDE_DEFAULT_ITERATIONS };
#define TIDE_DEFAULT_COUNT 3

struct tide_default_check {
    const char *metric;     /* a user threshold on this metric replaces the check */
    const char *expression; /* as shown in summaries and junit.xml */
    bool active;            /* neither replaced nor disabled */
    bool ok;
    double observed; /* NAN: no data (the check holds) */
};

/* What the default checks judge, from the run's totals (warm-up excluded). */
struct tide_run_counts {
    double reqs;                  /* http_reqs */
    double failed;                /* requests counted in http_req_failed */
    double iterations;            /* iterations that ended, raising or not */
    double script_errors;         /* tide_script_errors */
    const char *top_error;        /* the most frequent failed request's error; NULL: none */
    const char *top_script_error; /* likewise for script errors */
};

/* Sets up the checks of 'rule'; those on a metric named in user_metrics (the metric names
 * of the user's thresholds, tags left out) are inactive. */
void tide_defaults_init(struct tide_default_check d[TIDE_DEFAULT_COUNT],
                        enum tide_verdict_rule rule, const char *const *user_metrics, int nuser);

/* Judges the active checks. Returns true when all hold; otherwise 'reason' gets one line on
 * the first that failed, e.g. "no request succeeded (57070 of 57070 failed: connection
 * refused)". */
bool tide_defaults_judge(struct tide_default_check d[TIDE_DEFAULT_COUNT],
                         enum tide_verdict_rule rule, const struct tide_run_counts *c, char *reason,
                         size_t len);

struct tide_outcome {
    bool interrupted;     /* Ctrl-C or SIGTERM */
    bool aborted;         /* tide.abort() */
    bool thresholds_ok;   /* every user threshold held */
    bool verify_failed;   /* verify() failed and options.verify_fails_run */
    bool saturated_fails; /* --fail-on-saturation and the generator was saturated */
    bool threshold_abort; /* an abort_on_fail threshold stopped the run */
    bool defaults_failed; /* an active default check did not hold */
    int defaults_exit; /* the exit code then: 99, or Locust's (1, or N of --exit-code-on-error) */
};

/* The exit code; *status gets "passed", "failed", "aborted" or "interrupted". Interrupted wins
 * over aborted, aborted over failed; a failed Locust rule gives its own code. */
int tide_verdict(const struct tide_outcome *o, const char **status);

#endif
