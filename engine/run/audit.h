/* audit.h: the run's audit trail. events.jsonl: one JSON object per line, timestamped, each
 * carrying the sha256 of the previous line ("prev"), so any edit breaks the chain.
 * manifest.json: tool version, scenario hash, options, times, exit code and the sha256 of every
 * other file in the run folder. */
#ifndef TIDE_AUDIT_H
#define TIDE_AUDIT_H
#include <stdio.h>
#include <cJSON.h>
#include "err.h"

struct tide_audit {
    FILE *f;
    char path[4096]; /* final name */
    char tmp[4096];  /* written while the run lasts */
    char prev[65];   /* sha256 of the last line */
    long seq;
};

int tide_audit_open(struct tide_audit *a, const char *dir, struct tide_err *err);
/* Appends an event; takes ownership of 'fields' (may be NULL). Strings are redacted. */
void tide_audit_event(struct tide_audit *a, const char *type, cJSON *fields);
/* Flushes, fsyncs and moves events.jsonl into place. */
int tide_audit_close(struct tide_audit *a, struct tide_err *err);
void tide_sha256_hex(const void *data, size_t len, char hex[65]);
/* Writes DIR/manifest.json: 'facts' (taken) plus "files": {name: sha256} of every other file. */
int tide_manifest_write(const char *dir, cJSON *facts, struct tide_err *err);
/* Checks a run folder's manifest hashes and the events chain; 0 when intact, else -1 with what
 * differs. */
int tide_audit_verify_dir(const char *dir, struct tide_err *err);

#endif
