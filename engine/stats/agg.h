/* agg.h: the aggregate of one metric (possibly merged over several tagged series) over a
 * period: what thresholds, summaries and comparisons read. */
#ifndef TIDE_AGG_H
#define TIDE_AGG_H
#include <stdint.h>
#include "hdr.h"

enum tide_metric_type {
    TIDE_COUNTER, /* sum of added values: http_reqs, data_sent, iterations */
    TIDE_GAUGE,   /* last value, with min and max: vus */
    TIDE_RATE,    /* share of non-zero samples: http_req_failed, checks */
    TIDE_TREND,   /* distribution (histogram of value x 1000): http_req_duration (ms) */
};

struct tide_agg {
    enum tide_metric_type type;
    uint64_t count;       /* samples added */
    double sum;           /* of values (counter: the total) */
    double min, max;      /* of values; 0 when count == 0 */
    uint64_t nonzero;     /* rate: samples that were true/non-zero */
    double last;          /* gauge: last value */
    struct tide_hdr *hdr; /* trend: values x 1000 as integers (ms -> µs); else NULL */
    double seconds;       /* length of the period, for per-second rates */
};

#endif
