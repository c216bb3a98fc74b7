/* distributed.h: what a process needs to run its part of a test split over several processes
 * or machines without a coordinator (docs/distributed.md): which segment it runs (--segment
 * I/N, or --segments N with Kubernetes' JOB_COMPLETION_INDEX), when it starts (--start-at),
 * and the setup() data handed from the setup phase to the segments and the teardown phase
 * (--setup-data FILE). */
#ifndef TIDE_DISTRIBUTED_H
#define TIDE_DISTRIBUTED_H
#include <stdint.h>
#include <cJSON.h>
#include "cli.h"
#include "config.h"
#include "err.h"

/* A start more than this late is reported; more than TIDE_START_AT_REFUSE_US is refused. */
#define TIDE_START_AT_TOLERANCE_US 100000LL
#define TIDE_START_AT_REFUSE_US    1000000LL

/* Sets cfg's segment from --segment I/N, or from --segments N (or the environment's
 * TIDE_SEGMENTS) and JOB_COMPLETION_INDEX (0-based, as Kubernetes sets it). */
int tide_distributed_segment(const struct tide_cli *cli, struct tide_config *cfg,
                             struct tide_err *err);

/* Parses a --start-at TIME: RFC 3339 ("2026-12-06T04:00:00Z", fraction and offset allowed),
 * epoch seconds ("1796000000" or with a fraction), or now+DURATION ("now+2s") from now_wall_us.
 * *at_wall_us gets µs since the epoch. */
int tide_start_at_parse(const char *text, int64_t now_wall_us, int64_t *at_wall_us,
                        struct tide_err *err);

/* The setup data file: setup()'s return value as JSON ("null" when it returned nothing).
 * Read returns a new value (NULL with a message on error); write is atomic. */
cJSON *tide_setup_data_read(const char *path, struct tide_err *err);
int tide_setup_data_write(const char *path, const cJSON *data, struct tide_err *err);

#endif
