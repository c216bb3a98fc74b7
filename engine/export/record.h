/* record.h: the export log of a runs folder, <runs folder>/.exports.jsonl: one JSON object per
 * line and per export (run_id, kind, ref, profile, encrypted, operator, time, ...), appended
 * and fsynced, redacted. It lives beside the run folders, not inside one, because a run
 * folder's files are sealed by its manifest; erasure (purge) reads it to find every copy. */
#ifndef TIDE_RECORD_H
#define TIDE_RECORD_H
#include <stddef.h>
#include "err.h"

struct cJSON;
/* The folder that holds the run folder 'dir' (its real parent). */
int tide_export_runs_folder(const char *dir, char *out, size_t outlen, struct tide_err *err);
/* Who exported: $TIDE_OPERATOR, else the login name of the effective user. */
const char *tide_export_operator(void);
/* Adds "time" and "operator" to 'rec', redacts it and appends it as one line; 'rec' is not
 * taken. */
int tide_export_record(const char *runs_folder, struct cJSON *rec, struct tide_err *err);

#endif
