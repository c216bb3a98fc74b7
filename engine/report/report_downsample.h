/* report_downsample.h: thins a run's per-second history for report.html's charts, so an
 * 8-hour run (28 800 rows) gives a page of a few MB whose lines stay readable, instead of
 * tens of MB of solid blocks. Spikes survive: each bucket of consecutive rows becomes two
 * rows, one holding every number's minimum over the bucket and one its maximum (the same
 * envelope a chart a few hundred pixels wide can show anyway). Only the page is thinned:
 * summary.json and stats_history.csv keep every second. */
#ifndef TIDE_REPORT_DOWNSAMPLE_H
#define TIDE_REPORT_DOWNSAMPLE_H
#include <cJSON.h>

/* Most history rows report.html embeds; longer histories are bucketed to fit. */
#define TIDE_REPORT_CHART_ROWS 1000

/* A new array of at most 'max_rows' (>= 2, even) rows made from 'history' (an array of the
 * summary's history rows, oldest first): NULL when it already fits or on out of memory (then
 * the caller keeps the full history). Per bucket of consecutive rows: the first row is the
 * minimum of every number (nested objects too: percentiles, endpoints) with the bucket's
 * first "time", the second the maximum with its last "time". '*bucket_rows' gets the number
 * of original rows per bucket. */
cJSON *tide_history_downsample(const cJSON *history, int max_rows, int *bucket_rows);

#endif
