/* verdict.c: status and exit code. Interrupted wins over aborted, aborted over failed. */
#include "run.h"
#include "verdict.h"

int tide_verdict(const struct tide_outcome *o, const char **status)
{
    if (o->interrupted) {
        *status = "interrupted";
        return TIDE_EXIT_INTERRUPTED;
    }
    if (o->aborted) {
        *status = "aborted";
        return TIDE_EXIT_ABORTED;
    }
    if (!o->thresholds_ok || o->verify_failed || o->saturated_fails) {
        *status = o->threshold_abort ? "aborted" : "failed";
        return TIDE_EXIT_THRESHOLDS;
    }
    *status = "passed";
    return TIDE_EXIT_OK;
}
