/* bundle.h: a self-contained, portable run folder. With --bundle (options.bundle) the run folder
 * also holds, under bundle/, what the run read: the scenario, its plugin files, the modules it
 * required and the data files it opened, at their paths relative to the scenario's folder, so
 * the folder alone can be audited and the test re-run on another machine. Files outside the
 * scenario's folder are not copied (a re-run could not find them at the same relative path);
 * data files whose name or first line look like credentials (a password/token/secret column)
 * are left out unless --bundle-data: a bundle is made to be copied, and a CSV of test accounts
 * must not travel with it. Every file left out is named in the manifest with the reason.
 * The manifest's "bundle" section lists them, and its "files" map holds each copied file as
 * "bundle/<path>" with its sha256; tide verify accepts exactly that subfolder. */
#ifndef TIDE_BUNDLE_H
#define TIDE_BUNDLE_H
#include <cJSON.h>
#include "config.h"
#include "err.h"

/* Copies the inputs into dir/bundle/ and adds to 'facts' the "bundle" section and the
 * "bundle/..." entries of its "files" map (created here; tide_manifest_write adds the rest).
 * 0, or -1 when a file could not be written (the manifest is then not written either). */
int tide_bundle_write(const struct tide_config *cfg, const char *dir, cJSON *facts,
                      struct tide_err *err);

/* Checks dir/bundle/ against the manifest's 'files': every entry in it is a regular file or a
 * folder (no link, FIFO, device), every file is listed as "bundle/<path>", and every listed
 * "bundle/..." file is there with its sha256. 0, or -1 naming the file. */
int tide_bundle_verify(const char *dir, const cJSON *files, struct tide_err *err);

/* Whether a data file (its name and first bytes) looks like it holds credentials. */
bool tide_bundle_may_hold_secrets(const char *path, const char *data, size_t len);

#endif
