/* regjson.h: a registry as JSON and back, losslessly: every series with its metric (name,
 * type, contains), its tags and its whole aggregate (count, sum, min, max, non-zero count,
 * last value, histogram). A segment of a split test writes one such registry per second
 * (seconds.jsonl) so that `tide merge` can rebuild each second of the whole test exactly:
 * summary.json's figures are rounded and its history rows hold percentiles, not histograms. */
#ifndef TIDE_REGJSON_H
#define TIDE_REGJSON_H
#include <cJSON.h>
#include "err.h"
#include "metrics.h"

/* [{"metric":..., "type":..., "contains":..., "tags":{...}, "count":..., "sum":..., "min":...,
 *   "max":..., "nonzero":..., "last":..., "histogram":{...}}, ...]; series without samples
 * are left out. */
cJSON *tide_registry_to_json(const struct tide_registry *r);
/* Adds every series of 'j' to 'dst' (custom metrics are registered). 'skip' (may be NULL)
 * leaves out the series of metrics for which it returns true. -1 with a message on a
 * malformed document or a metric whose type differs from this process's. */
int tide_registry_from_json(struct tide_registry *dst, const cJSON *j, bool (*skip)(int metric),
                            struct tide_err *err);

#endif
