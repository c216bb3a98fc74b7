/* export_events.h: `tide export` with business hooks: the export command (CAR, IPFS or S3)
 * between loading the hooks of --script / --plugin and firing export_done with what was
 * exported: the export records the command appended to .exports.jsonl (kind, ref: the root CID
 * or the S3 prefix, objects, bytes, the CAR file), and the run folder's files with their sizes
 * (docs/extending.md#events-of-other-commands). Nothing fires when nothing was exported. */
#ifndef TIDE_EXPORT_EVENTS_H
#define TIDE_EXPORT_EVENTS_H

/* argv[0] is "export"; returns the command's exit code (99 when a required hook failed). */
int tide_export_events_main(int argc, char **argv);

#endif
