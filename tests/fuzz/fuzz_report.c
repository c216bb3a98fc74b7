/* fuzz_report: the report layer on an arbitrary summary.json, as 'tide report DIR' reads it
 * (engine/report): parsing, then report.html, the CSV files and junit.xml rendered from it.
 * A summary refused with a message is an expected outcome; a crash is not. */
#include <stdint.h>
#include <stdlib.h>
#include <cJSON.h>
#include "buf.h"
#include "fuzz_util.h"
#include "report.h"
#include "report_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tide_err err;
    cJSON *summary = tide_report_parse((const char *)data, size, "summary.json", &err);
    if (summary == NULL)
        return 0;
    struct tide_buf b = {0};
    (void)tide_report_html_text(summary, false, &b, &err);
    tide_buf_free(&b);
    free(tide_report_page_json(summary));
    static char stats[128], history[128], failures[128], junit[128];
    if (stats[0] == '\0') {
        snprintf(stats, sizeof stats, "%s/stats.csv", fuzz_dir());
        snprintf(history, sizeof history, "%s/stats_history.csv", fuzz_dir());
        snprintf(failures, sizeof failures, "%s/failures.csv", fuzz_dir());
        snprintf(junit, sizeof junit, "%s/junit.xml", fuzz_dir());
    }
    (void)tide_report_csv(summary, stats, history, failures, &err);
    (void)tide_report_junit(summary, junit, &err);
    cJSON_Delete(summary);
    return 0;
}
