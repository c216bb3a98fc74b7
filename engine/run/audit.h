/* audit.h: the run's audit trail. events.jsonl: one JSON object per line, timestamped, each
 * carrying the sha256 of the previous line ("prev"), so any edit breaks the chain.
 * manifest.json: tool version, scenario hash, options, times, exit code and the sha256 of every
 * other file in the run folder. */
#ifndef TIDE_AUDIT_H
#define TIDE_AUDIT_H
#include <stdbool.h>
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
/* Writes DIR/manifest.json: 'facts' (taken) plus "files": {name: sha256} of every other file
 * and "events": {count, head} of the events chain. */
int tide_manifest_write(const char *dir, cJSON *facts, struct tide_err *err);
/* What verifying a run folder found. */
struct tide_verify_info {
    long events;   /* events in the chain */
    char head[65]; /* sha256 of its last line */
    char manifest_sha256[65];
    char last_type[32]; /* the last event's type ("end" when the run was sealed) */
    int last_exit_code; /* its exit_code, -1 without one */
    char start_scenario[1024], start_host[1024]; /* from the first event */
};
/* Checks a run folder: every file's sha256 against the manifest, nothing added (files, hidden
 * files, links, special files, subfolders: only manifest.json.sig may be beside them), the
 * events chain, its head and count against the manifest's "events", the last event is "end",
 * and the manifest's exit_code, scenario_file and host agree with the events. 0 when intact
 * ('info', may be NULL, filled), else -1 naming the file or field. Opens nothing that blocks. */
int tide_audit_verify_dir(const char *dir, struct tide_verify_info *info, struct tide_err *err);

#endif
