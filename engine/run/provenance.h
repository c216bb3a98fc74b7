/* provenance.h: what the manifest records beyond the files (who ran what, with what), and the
 * steps after it is written: the signature (--sign) and the "run" record of the access ledger
 * holding the manifest's sha256, which `tide verify` compares (an edited manifest is seen even
 * when unsigned, as long as the ledger is intact). */
#ifndef TIDE_PROVENANCE_H
#define TIDE_PROVENANCE_H
#include <cJSON.h>
#include "config.h"

/* Adds to the manifest's facts: operator, build, plugins and every module and data file read
 * (with sha256), target hosts, the privacy setting. */
void tide_provenance_add(cJSON *facts, const struct tide_config *cfg);
/* After manifest.json is written: signs it when cfg->sign_key, appends the ledger record, and
 * applies options.retention to the runs beside it (purge.h).
 * Problems are logged; returns -1 when the signature could not be written. */
int tide_provenance_seal(const struct tide_config *cfg, const char *dir, int exit_code);

#endif
