/* report.h: the files rendered from a run's summary.json (docs/summary-schema.md): Locust's
 * CSVs, junit.xml and report.html, and the 'tide report' and 'tide compare' commands.
 * Renderers read only the parsed summary and are deterministic: the same summary gives the
 * same bytes, so 'tide report DIR' re-creates a run's files exactly. Every file is written
 * atomically (engine/fsutil.h). Errors: -1 and a one-line message in 'err'. */
#ifndef TIDE_REPORT_H
#define TIDE_REPORT_H
#include <stdbool.h>
#include <cJSON.h>
#include "err.h"

/* Writes stats.csv, stats_history.csv, failures.csv, junit.xml and report.html into 'dir'
 * (created if missing). Stops at the first file it cannot write. */
int tide_report_write_all(const cJSON *summary, const char *dir, struct tide_err *err);

/* Locust's CSV files (stats.csv, stats_history.csv, failures.csv layouts); for '--csv PREFIX'
 * pass PREFIX_stats.csv, PREFIX_stats_history.csv, PREFIX_failures.csv. A NULL path skips
 * that file. */
int tide_report_csv(const cJSON *summary, const char *stats_path, const char *history_path,
                    const char *failures_path, struct tide_err *err);

/* Locust's PREFIX_exceptions.csv: Count,Message,Traceback,Nodes, one row per kind of script
 * error as summary.json's "script_errors" groups them, most frequent first; Message is
 * redacted (tide_redact), Traceback is the "file.lua:LINE" the error names (tide keeps no
 * stack), Nodes is "local". Just the header when no script error happened. */
int tide_report_exceptions_csv(const cJSON *summary, const char *path, struct tide_err *err);

/* junit.xml: one testsuite each for thresholds, checks and verify. */
int tide_report_junit(const cJSON *summary, const char *path, struct tide_err *err);

/* report.html: one self-contained page (chart library and data inlined, no network). */
int tide_report_html(const cJSON *summary, const char *path, struct tide_err *err);
/* The same page as text appended to 'b'; 'live': the dashboard's page (run/dashboard.h),
 * whose script also listens to /events on its own server (CSP connect-src 'self'), and a
 * "running" status reads "Running". */
struct tide_buf;
int tide_report_html_text(const cJSON *summary, bool live, struct tide_buf *b,
                          struct tide_err *err);
/* The page's data (what report.html embeds: no options, no histograms, history thinned,
 * status codes) as JSON text, malloc'd; NULL without memory. For the dashboard's events. */
char *tide_report_page_json(const cJSON *summary);

/* Commands; argv[0] is the command's name ("report", "compare"); the result is the process
 * exit code (DESIGN.md): 0 done, 2 bad usage or unreadable input, 1 a file could not be
 * written; compare: 99 a tolerance was exceeded. Messages go to stderr as 'tide: ...'.
 *   tide report DIR            (DIR may also name a summary.json file)
 *   tide compare BASE NEW [--preset NAME] [--max-regression LIST] [--min-requests N]
 *                [--format text|markdown|json] [--md FILE] [--json FILE]
 * docs/reports.md describes both, docs/ci.md compare's presets. */
int tide_report_main(int argc, char **argv);
int tide_compare_main(int argc, char **argv);

#endif
