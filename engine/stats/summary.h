/* summary.h: turns merged metric registries into the JSON documents of docs/summary-schema.md:
 * the per-second history rows and the pieces of summary.json (metrics, series, endpoints,
 * checks, errors). */
#ifndef TIDE_SUMMARY_H
#define TIDE_SUMMARY_H
#include <cJSON.h>
#include "metrics.h"

/* One history row for second 'index' from that second's registry 'iv' and the cumulative
 * registry 'total'. */
cJSON *tide_summary_history_row(const struct tide_registry *iv, const struct tide_registry *total,
                                int64_t index, int64_t wall_us, double vus);

/* Adds "metrics", "series", "endpoints", "aggregated", "checks", "errors", "script_errors" of
 * registry 'r' (over 'seconds' of run time) to the object 'summary'. */
void tide_summary_add_metrics(cJSON *summary, const struct tide_registry *r, double seconds);
/* The "checks" array of a registry (also used for verify). */
cJSON *tide_summary_checks(const struct tide_registry *r);
/* A series' canonical tag string as a JSON object {key: value} (summary.json, seconds.jsonl). */
cJSON *tide_summary_tags_json(const char *canon);

#endif
