/* outputs.h: the run folder: its name, the summary and the files rendered from it, the files
 * handle_summary() returns, the Locust-style extra outputs, the manifest, report/latest. */
#ifndef TIDE_OUTPUTS_H
#define TIDE_OUTPUTS_H
#include <stddef.h>
#include <stdint.h>
#include <cJSON.h>
#include "config.h"
#include "err.h"

/* Creates the run folder: cfg->out_dir, or report/<date>-<script>[-n]; 'id' gets its name. */
int tide_outputs_make_dir(const struct tide_config *cfg, int64_t start_wall_us, char *dir,
                          size_t dirlen, char *id, size_t idlen, struct tide_err *err);
/* Before the run: the folders of --csv PREFIX and --html FILE exist (made when missing) and
 * can be written, so a bad path stops the run before anything is sent, not after it. */
int tide_outputs_check_extra(const struct tide_config *cfg, struct tide_err *err);
/* Points report/latest at run 'id' (not with --out). */
void tide_outputs_point_latest(const struct tide_config *cfg, const char *id);
/* The resolved options as summary.json, the manifest and the audit log show them. */
cJSON *tide_outputs_options_json(const struct tide_config *c);
/* Redacts 'summary' in place, writes dir/summary.json, then renders every other file (and
 * --csv/--html) from the redacted text. *doc gets that redacted document (NULL when out of
 * memory). Returns 0, or -1 (logged) when a file could not be written. */
int tide_outputs_write(const struct tide_config *cfg, const char *dir, cJSON *summary, cJSON **doc);
/* Writes handle_summary()'s { path = content } files: relative paths in 'dir'. */
void tide_outputs_handle_summary(const char *dir, const cJSON *files);
/* Writes manifest.json (the hashes of the folder's files and the run's facts). */
int tide_outputs_manifest(const struct tide_config *cfg, const char *dir, int64_t start_wall_us,
                          int64_t end_wall_us, int exit_code, struct tide_err *err);

#endif
