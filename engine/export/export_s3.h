/* export_s3.h: `tide export DIR --s3 s3://BUCKET/PREFIX`: copies every file of a run folder to
 * an S3-compatible store under PREFIX/<run id>/, each encrypted with age when --encrypt-to is
 * given (the object then ends in .age), lists the prefix back to check that every object
 * landed with the size and ETag the server acknowledged, and appends the export's record to
 * <runs folder>/.exports.jsonl:
 *   {"run_id", "kind": "s3", "ref": "s3://BUCKET/PREFIX/<run id>/", "encrypted", "recipients",
 *    "endpoint", "objects", "bytes", "time"}
 * With --delete it removes every object under that prefix instead (what purge does) and
 * records {"kind": "s3", "ref", "deleted": true, "objects"}.
 *
 * tide_export_s3_run is the part the `tide export` command dispatches to once it has parsed
 * its S3 options; tide_export_s3_main parses them itself (argv[0] is the command name). */
#ifndef TIDE_EXPORT_S3_H
#define TIDE_EXPORT_S3_H
#include <stdbool.h>
#include <stddef.h>
#include "age.h"
#include "err.h"

struct tide_export_s3_opts {
    const char *dir;      /* the run folder */
    const char *url;      /* s3://bucket/prefix */
    const char *endpoint; /* NULL: AWS for the region */
    const char *region;   /* NULL: AWS_REGION, AWS_DEFAULT_REGION, us-east-1 */
    const struct tide_age_key *recipients;
    size_t nrecipients;
    bool delete_objects;
};

/* Exit codes: 0 done, 2 bad input (not a run folder, bad URL, no credentials), 1 the store
 * failed or did not hold what was sent. */
int tide_export_s3_run(const struct tide_export_s3_opts *o);

/* For purge: deletes every object of one S3 export record, given its "ref"
 * ("s3://BUCKET/PREFIX/<run id>/") and "endpoint" (NULL: AWS), with the credentials of the
 * environment, then checks none is left; '*deleted' (may be NULL) gets their number. The
 * caller records the deletion (its erasure receipt). 0, or -1 with a one-line message. */
int tide_export_s3_delete_ref(const char *ref, const char *endpoint, const char *region,
                              size_t *deleted, struct tide_err *err);
int tide_export_s3_main(int argc, char **argv);

#endif
