/* errsamples.h: a few response bodies of failed requests, to see what the server said: the
 * first TIDE_ERRSAMPLE_BYTES bytes of at most TIDE_ERRSAMPLES_PER_CLASS responses per kind of
 * error (method, name, error), for at most TIDE_ERRSAMPLE_CLASSES kinds. Each is redacted and
 * privacy-filtered before it is cut and kept (a value across the cut is never half kept).
 * None with --no-samples (tide_privacy_samples() false). Thread-safe; memory bounded. */
#ifndef TIDE_ERRSAMPLES_H
#define TIDE_ERRSAMPLES_H
#include <stddef.h>

#define TIDE_ERRSAMPLE_BYTES      512
#define TIDE_ERRSAMPLES_PER_CLASS 3
#define TIDE_ERRSAMPLE_CLASSES    32

/* Offers the body of a failed request; kept when its kind still has room. */
void tide_errsamples_offer(const char *method, const char *name, const char *error,
                           const char *body, size_t len);
/* The samples as a JSON array (cJSON *, the caller's) of
 * {"method","name","error","count","samples":["...",...]}; NULL when there are none. */
struct cJSON;
struct cJSON *tide_errsamples_json(void);
void tide_errsamples_clear(void);

#endif
