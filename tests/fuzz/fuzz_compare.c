/* fuzz_compare: 'tide compare BASE NEW' (engine/report/report_compare.c) on two arbitrary
 * summary.json files. Input: "BASE\0NEW" (NEW is BASE when there is no NUL). The terminal
 * table goes to standard output, sent to /dev/null; the Markdown and JSON documents are
 * rendered into files. Exit codes 0, 2 and 99 are expected outcomes; a crash is not. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz_util.h"
#include "report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char base[128], cur[128], md[128], json[128];
    static int quiet;
    if (!quiet) {
        quiet = freopen("/dev/null", "w", stdout) != NULL;
        snprintf(base, sizeof base, "%s/base.json", fuzz_dir());
        snprintf(cur, sizeof cur, "%s/new.json", fuzz_dir());
        snprintf(md, sizeof md, "%s/compare.md", fuzz_dir());
        snprintf(json, sizeof json, "%s/compare.json", fuzz_dir());
    }
    const uint8_t *nul = memchr(data, '\0', size);
    size_t n = nul ? (size_t)(nul - data) : size;
    fuzz_file("base.json", data, n);
    if (nul)
        fuzz_file("new.json", nul + 1, size - n - 1);
    else
        fuzz_file("new.json", data, n);
    char cmd[] = "compare", md_opt[] = "--md", json_opt[] = "--json";
    char tol_opt[] = "--max-regression", tol[] = "p95=10%,error_rate=0.5pp,rps=-10%";
    char *argv[] = {cmd, base, cur, md_opt, md, json_opt, json, tol_opt, tol, NULL};
    int rc = tide_compare_main(9, argv);
    if (rc != 0 && rc != 2 && rc != 99)
        abort();
    return 0;
}
