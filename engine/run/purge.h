/* purge.h: retention and erasure of stored runs. `tide purge` removes every file of the runs it
 * selects (by folder or id, age, scenario, tag), repoints or removes RUNS/latest, drops the
 * run's lines from RUNS/.exports.jsonl, re-scans RUNS to prove nothing of it is left (no path or
 * link naming its id, no file with one of its files' sha256), and writes an erasure receipt
 * into RUNS/.receipts/<id>.json (signed with --key): run id, manifest sha256, the files' names,
 * sizes and sha256, time, operator, the re-scan, and what erasure could not reach (exports,
 * copies outside tide, storage that keeps old blocks). The access ledger keeps the run id and
 * hashes only. Age is the manifest's "start" time (UTC), or the folder's mtime when a run has
 * no manifest (interrupted before it was sealed). */
#ifndef TIDE_PURGE_H
#define TIDE_PURGE_H
#include <stdint.h>
#include "err.h"

/* `tide purge ...` and `tide verify-receipt FILE [--allowed-signers F]`; argv[0] is the
 * command name. */
int tide_purge_main(int argc, char **argv);
int tide_verify_receipt_main(int argc, char **argv);

/* Retention: erases the runs in 'runs_dir' that started more than 'max_age_us' ago, but
 * 'keep_id' (the run that just ended). Returns how many, -1 on an error (logged). */
int tide_purge_expired(const char *runs_dir, int64_t max_age_us, const char *keep_id,
                       struct tide_err *err);

#endif
