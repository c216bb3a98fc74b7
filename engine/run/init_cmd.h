/* init_cmd.h: `tide init [FILE.lua] [--from-locust LOCUSTFILE] [--host URL] [--force]`: the
 * first file of a new user. Without --from-locust it writes a commented starter scenario
 * (options with thresholds, a setup, a default function with checks and a group) that runs as
 * is against `tide target`; with it, a best-effort translation of a locustfile
 * (init_locust.h). It never replaces an existing file unless --force is given. */
#ifndef TIDE_INIT_CMD_H
#define TIDE_INIT_CMD_H

/* The usage text (stdout for `tide init --help`). */
extern const char tide_init_usage[];
/* argv[0] is "init". Exit code: 0 written, 2 bad usage / unreadable locustfile / file exists,
 * 1 the file could not be written. */
int tide_init_main(int argc, char **argv);

#endif
