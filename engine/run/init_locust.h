/* init_locust.h: `tide init --from-locust FILE`: a best-effort translation of a locustfile into
 * a Lua scenario, so a Locust user starts from their own tasks instead of a blank page.
 *
 * No Python runs: a line-oriented reader splits the file into logical lines (brackets,
 * backslashes and triple-quoted strings joined), follows the indentation into classes and
 * functions, and translates what it recognises: HttpUser classes (host, wait_time, weight,
 * fixed_count, tasks, @task(N), on_start/on_stop), TaskSet and SequentialTaskSet, the
 * statements of task bodies (self.client calls, catch_response blocks, asserts, if/for/while,
 * assignments) and events.test_start/test_stop listeners. Every line it cannot translate is
 * kept as a `-- TODO(locust): <original line>` comment: nothing is dropped silently.
 *
 * The locustfile is untrusted input: its size is capped (TIDE_LOCUST_MAX_BYTES), every table
 * is bounded, recursion is bounded, and whatever the input the output is a Lua chunk whose
 * comments cannot be broken out of (control characters in copied text are replaced). */
#ifndef TIDE_INIT_LOCUST_H
#define TIDE_INIT_LOCUST_H
#include <stddef.h>
#include "err.h"

#define TIDE_LOCUST_MAX_BYTES (1024 * 1024)

struct tide_locust_result {
    char *lua; /* the scenario (malloc'd) */
    int todos; /* statements kept as TODO(locust) comments */
    int users; /* user classes translated into scenarios */
    int tasks; /* tasks found (all classes) */
};

/* Translates 'src' (len bytes). 'script' is the output's file name (for its header comment),
 * 'host' a URL that replaces the locustfile's host (or NULL). 0, or -1 with 'err' (input too
 * large, not text, out of memory). */
int tide_locust_translate(const char *src, size_t len, const char *script, const char *host,
                          struct tide_locust_result *out, struct tide_err *err);
void tide_locust_result_free(struct tide_locust_result *r);

#endif
