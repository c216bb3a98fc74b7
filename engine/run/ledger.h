/* ledger.h: the access ledger beside the runs (RUNS/.ledger.jsonl, RUNS being the folder that
 * holds the run folders, report/ by default). Every tide command that touches a stored run (run,
 * report, compare, verify, sign, purge, export) appends one record: who (operator.h), when, what
 * command, which run, the result. Records are hash-chained like events.jsonl ("prev": sha256 of
 * the previous line), so an edited, removed or reordered record breaks the chain. Records hold
 * run ids and hashes only, never report content, so they may outlive an erased run. Appends
 * are serialised with flock(), so concurrent commands do not fork the chain. */
#ifndef TIDE_LEDGER_H
#define TIDE_LEDGER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <cJSON.h>
#include "err.h"

/* Appends {"seq","time","operator","command","run","result","prev", ...extra}; 'extra' (may be
 * NULL) is taken. 0, or -1 with a message. */
int tide_ledger_append_json(const char *runs_dir, const char *command, const char *run_id,
                            const char *result, cJSON *extra, struct tide_err *err);
/* The API other commands (e.g. export) call: one record without extra fields. */
int tide_ledger_append(const char *runs_dir, const char *command, const char *run_id,
                       const char *result, struct tide_err *err);

/* The ledger's folder and the run id of a run folder: its parent folder and its base name. */
void tide_ledger_locate(const char *run_dir, char *runs_dir, size_t runs_len, char *run_id,
                        size_t id_len);
/* Records a command's access to a run folder (when 'run_dir' holds a manifest.json), with
 * "ok" or "failed (exit N)"; errors are logged as warnings, never fatal. */
void tide_ledger_note(const char *run_dir, const char *command, int exit_code);

/* Checks the chain of RUNS/.ledger.jsonl; prints each record as one line to 'out' when not NULL.
 * 0: intact (or no ledger: *count 0); -1: broken, naming the line. */
int tide_ledger_check(const char *runs_dir, FILE *out, long *count, struct tide_err *err);
/* The manifest sha256 recorded for 'run_id' when its run ended ("run" record); false when the
 * ledger has none. */
bool tide_ledger_manifest_sha(const char *runs_dir, const char *run_id, char hex[65]);

#endif
