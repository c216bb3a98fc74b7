/* run.h: `tide run` and `tide demo`: the coordinator. It resolves options, runs setup(),
 * starts the workers, merges their per-second registries exactly, prints progress, evaluates
 * thresholds (live for abort_on_fail, and at the end), runs teardown() and verify(), and writes
 * the run folder. Returns DESIGN.md's exit codes. */
#ifndef TIDE_RUN_H
#define TIDE_RUN_H

#define TIDE_EXIT_OK          0
#define TIDE_EXIT_INTERNAL    1
#define TIDE_EXIT_USAGE       2
#define TIDE_EXIT_THRESHOLDS  99
#define TIDE_EXIT_ABORTED     108
#define TIDE_EXIT_INTERRUPTED 130

int tide_run_main(int argc, char **argv);
int tide_demo_main(int argc, char **argv);

#endif
