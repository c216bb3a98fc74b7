/* judge.h: judging thresholds and default checks on merged seconds, shared by a run (run.c,
 * as the seconds arrive) and by `tide merge` (merge.c, on the segments' seconds), so both
 * observe, window, explain and report a threshold the same way: the last seconds of a
 * windowed threshold ("... over 10s") in a ring, a threshold's observed value from the totals
 * or that window, the default checks on the totals, the reason line of the first failed
 * threshold, and summary.json's "thresholds" list. */
#ifndef TIDE_JUDGE_H
#define TIDE_JUDGE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cJSON.h>
#include "metrics.h"
#include "threshold.h"
#include "verdict.h"

/* One threshold as it is being judged. */
struct tide_judged {
    struct tide_threshold t;
    const char *source; /* "script", "cli" or "plugin" (static strings) */
    const char *plugin; /* the plugin that added it, or NULL */
    bool ok;            /* final verdict */
    bool failing;       /* as of the last evaluation */
    bool window_failed; /* a full window of a windowed threshold did not hold */
    double observed;    /* NAN: no data */
    bool aborted;       /* this one stopped the run (abort_on_fail) */
};

/* The last 'size' measured seconds, for windowed thresholds. */
struct tide_window {
    struct tide_registry **ring;
    int64_t size; /* the longest window, in seconds; 0: no ring */
    int64_t n;    /* seconds pushed so far */
};

/* Sizes the ring for the longest window of thr[0..n). 0, or -1 without memory. */
int tide_window_init(struct tide_window *w, const struct tide_judged *thr, int n);
/* Adds one measured second (taken; freed when it leaves the ring, or now when there is none). */
void tide_window_push(struct tide_window *w, struct tide_registry *second);
void tide_window_free(struct tide_window *w);
/* Whether t's window is full (always for a threshold without a window). */
bool tide_window_full(const struct tide_window *w, const struct tide_judged *t);

/* Observes t: over its window's last seconds when it has one, else over 'total' with
 * 'total_secs' as the rate's duration. A metric this process does not know (no segment
 * recorded it) has no samples. Returns whether it holds; *obs the observed value (NAN: none). */
bool tide_judge_observe(const struct tide_judged *t, const struct tide_registry *total,
                        double total_secs, const struct tide_window *w, double *obs);

/* The default checks on the totals' counts (requests, failures, iterations, script errors,
 * and the most frequent error of each); false with 'reason' when one failed. */
bool tide_judge_defaults(struct tide_default_check d[TIDE_DEFAULT_COUNT],
                         enum tide_verdict_rule rule, const struct tide_registry *total,
                         char *reason, size_t len);

/* "threshold M: EXPR not met (observed X)[; N more thresholds failed]" for the first of
 * thr[0..n) that failed; false (reason untouched) when none did. */
bool tide_judge_threshold_reason(const struct tide_judged *thr, int n, char *reason, size_t len);

/* summary.json's "thresholds": every threshold, then every active default check. */
cJSON *tide_judge_thresholds_json(const struct tide_judged *thr, int n,
                                  const struct tide_default_check d[TIDE_DEFAULT_COUNT]);

#endif
