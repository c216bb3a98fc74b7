/* export_cmd.h: the commands around exports of a run folder (docs/export.md).
 *   tide export DIR --car FILE | --ipfs [URL]   write / push the folder as a UnixFS DAG, print
 *                                               its root CID, record it in .exports.jsonl
 *   tide import FILE.car DIR                    the folder back from a CAR, then verified
 *   tide verify FILE.car | DIR --cid CID        a CAR's blocks and links / a folder's CID
 * The export options are one table (export_cmd.c): a destination is a field, a flag line and
 * a function. argv[0] is the command name, as for the other subcommands; each returns an exit
 * code (0, 2 usage, 99 verification failed, 1 internal). */
#ifndef TIDE_EXPORT_CMD_H
#define TIDE_EXPORT_CMD_H
#include <stdbool.h>

int tide_export_main(int argc, char **argv);
int tide_import_main(int argc, char **argv);
/* True when 'tide verify' was given a CAR file or --cid: then tide_verify_export_main runs it. */
bool tide_verify_is_export(int argc, char **argv);
int tide_verify_export_main(int argc, char **argv);
void tide_export_usage(void);

#endif
