/* dashboard.h: 'tide run --dashboard [ADDR]': a small read-only HTTP server that shows the
 * run as it happens in a browser (docs/reports.md#live-dashboard). It serves
 *   GET /             the report page in live mode (report.html's template, styles, charts)
 *   GET /events       server-sent events: "tick" every second with the summary so far and
 *                     the new history rows, "final" once with the final summary
 *   GET /report.html  the final report, once the run has ended
 * and nothing else (other paths 404, other methods 405); no external resources.
 *
 * It runs on a thread of its own (a poll() loop), never touching the workers: the
 * coordinator hands it redacted JSON text once a second under a mutex. It binds 127.0.0.1
 * unless told another address (then a warning: anyone who can reach it sees the run). At
 * most TIDE_DASHBOARD_CLIENTS connections; a client that cannot keep up is disconnected
 * (its queue is bounded), never waited for. */
#ifndef TIDE_DASHBOARD_H
#define TIDE_DASHBOARD_H
#include <stdbool.h>
#include <stddef.h>
#include "err.h"

#define TIDE_DASHBOARD_CLIENTS 32
#define TIDE_DASHBOARD_DEFAULT "127.0.0.1:0"

struct tide_dashboard; /* opaque */

/* Checks an address "HOST:PORT", "[V6]:PORT" or "PORT" (numeric hosts only): 0 or -1. */
int tide_dashboard_check_addr(const char *addr, struct tide_err *err);
/* True when 'arg' (the word after --dashboard) is an address rather than the script. */
bool tide_dashboard_is_addr(const char *arg);

/* Binds and starts serving 'page' (the live page, copied). NULL with a message when the
 * address is bad or taken. */
struct tide_dashboard *tide_dashboard_start(const char *addr, const char *page, size_t page_len,
                                            struct tide_err *err);
/* "http://127.0.0.1:PORT/" */
const char *tide_dashboard_url(const struct tide_dashboard *d);

/* Coordinator, once a second: the summary so far (page data JSON) and the history rows added
 * since the last call (a JSON array text, "[]" for none). Both already redacted. */
void tide_dashboard_tick(struct tide_dashboard *d, const char *summary_json, const char *rows_json);
/* At the end: the final page data and report.html's text; clients get a "final" event. */
void tide_dashboard_final(struct tide_dashboard *d, const char *summary_json, const char *rows_json,
                          const char *report_html, size_t report_len);
/* Gives connected clients up to 'linger_ms' to receive the final event, then stops and
 * frees. NULL is fine. */
void tide_dashboard_stop(struct tide_dashboard *d, int linger_ms);

#endif
