/* main.c: the tide command: dispatches to run, demo, target, report, compare, verify. Only
 * this file exits. */
#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "audit.h"
#include "crypt_cli.h"
#include "export_s3.h"
#include "log.h"
#include "report.h"
#include "run.h"
#include "target.h"

static const char usage[] =
    "usage: tide <command> [options]\n"
    "\n"
    "  tide run SCRIPT [options]   run a scenario (tide run --help lists the options)\n"
    "  tide demo                   built-in API + bundled scenario + report, in under a minute\n"
    "  tide target [--port P]      the built-in reference API alone (tide target --help)\n"
    "  tide report DIR             re-render report.html and CSVs from DIR/summary.json\n"
    "  tide compare BASE NEW       regression between two runs (exit 99 beyond tolerance)\n"
    "  tide verify DIR             check a run folder's manifest hashes and audit chain\n"
    "  tide export DIR --s3 s3://BUCKET/PREFIX [--encrypt-to age1...]   copy a run to S3\n"
    "  tide keygen --out KEYFILE   a new age identity (prints its age1... recipient)\n"
    "  tide encrypt FILE --to age1... | tide decrypt FILE.age --identity KEYFILE\n"
    "  tide version | help\n"
    "\n";

static const char run_head[] =
    "usage: tide run SCRIPT [options]   (SCRIPT is a Lua scenario; Locust style: tide -f SCRIPT)\n"
    "\n";

static const char run_options[] =
    "run options:\n"
    "  --host URL             base URL for relative request URLs\n"
    "  --vus N                virtual users\n"
    "  --duration D           how long (500ms, 30s, 5m, 1h30m)\n"
    "  --iterations N         total iterations shared by the VUs\n"
    "  --stage D:N            ramp to N VUs over D (repeat for several stages)\n"
    "  --rate R               open model: R iterations per second (with --duration)\n"
    "  --threads N            worker threads (default: one per core)\n"
    "  --out DIR              run folder (default report/<date>-<scenario>)\n"
    "  --threshold 'M: EXPR'  add a threshold, e.g. 'http_req_duration: p(95)<300'\n"
    "  --no-default-thresholds  no default checks (a run fails by default when no request\n"
    "                         succeeded, over 10% of requests or iterations failed, or no\n"
    "                         iteration completed; a threshold on the same metric replaces one)\n"
    "  --warmup D             leave the first D out of thresholds and summary\n"
    "  --hook-timeout D       stop a hook event's handlers after D (default 10s; 0: no limit)\n"
    "  --vu-memory SIZE       Lua memory per VU, e.g. 64MB\n"
    "  --tag K=V              tag every sample\n"
    "  --env K=V              value for tide.env(K) (treated as a secret)\n"
    "  --plugin FILE          a Lua file run after the scenario's top level (e.g. hooks)\n"
    "  --target               start the built-in API in-process and use it as host\n"
    "  --insecure             do not verify TLS certificates\n"
    "  --allow-read           let tide.data read files outside the scenario's folder\n"
    "  --fail-on-saturation   fail (99) when the load generator itself was saturated\n"
    "  --quiet                no progress line and no summary\n"
    "  Locust aliases: -f FILE, -u USERS, -r SPAWN_RATE, -t/--run-time D, -H/--host URL,\n"
    "                  --headless, --csv PREFIX, --html FILE, --exit-code-on-error N\n"
    "                  (with these and no threshold, any failure exits 1, or N)\n"
    "\n"
    "exit codes: 0 passed; 99 thresholds, default checks, verify or compare failed; 2 bad\n"
    "            usage or script; 1 internal error (or Locust's rule); 108 tide.abort();\n"
    "            130 interrupted (report still written). See docs/cli.md#exit-codes.\n";

static const char verify_usage[] =
    "usage: tide verify DIR\n"
    "\n"
    "Checks a run folder: every file's SHA-256 against manifest.json and the hash chain of\n"
    "audit.jsonl. Exit 0 intact, 99 changed or incomplete, 2 not a run folder.\n";

static bool wants_help(int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return true;
    }
    return false;
}

/* argv[0] is the command name, as for the other subcommands. */
static int verify_main(int argc, char **argv)
{
    struct stat st;
    if (argc != 2) {
        fprintf(stderr, "tide: usage: tide verify DIR\n");
        return TIDE_EXIT_USAGE;
    }
    if (stat(argv[1], &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "tide: verify: %s is not a run folder\n", argv[1]);
        return TIDE_EXIT_USAGE;
    }
    struct tide_err err = {{0}};
    if (tide_audit_verify_dir(argv[1], &err) != 0) {
        fprintf(stderr, "tide: verify %s: %s\n", argv[1], err.msg);
        return TIDE_EXIT_THRESHOLDS;
    }
    printf("%s: manifest hashes and audit chain intact\n", argv[1]);
    return TIDE_EXIT_OK;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage, stderr);
        fputs("see 'tide run --help' for the run options\n", stderr);
        return TIDE_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        fputs(usage, stdout);
        fputs(run_options, stdout);
        return TIDE_EXIT_OK;
    }
    if ((strcmp(cmd, "run") == 0 || strcmp(cmd, "verify") == 0) && wants_help(argc - 2, argv + 2)) {
        if (strcmp(cmd, "run") == 0) {
            fputs(run_head, stdout);
            fputs(run_options, stdout);
        } else {
            fputs(verify_usage, stdout);
        }
        return TIDE_EXIT_OK;
    }
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("tide %s (%s) %s\n", TIDE_VERSION, TIDE_GIT, curl_version());
        return TIDE_EXIT_OK;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc;
    if (strcmp(cmd, "run") == 0)
        rc = tide_run_main(argc - 2, argv + 2);
    else if (strcmp(cmd, "demo") == 0)
        rc = tide_demo_main(argc - 2, argv + 2);
    else if (strcmp(cmd, "target") == 0)
        rc = tide_target_main(argc - 1, argv + 1);
    else if (strcmp(cmd, "report") == 0)
        rc = tide_report_main(argc - 1, argv + 1);
    else if (strcmp(cmd, "compare") == 0)
        rc = tide_compare_main(argc - 1, argv + 1);
    else if (strcmp(cmd, "verify") == 0)
        rc = verify_main(argc - 1, argv + 1);
    else if (strcmp(cmd, "export") == 0)
        rc = tide_export_s3_main(argc - 1, argv + 1);
    else if (strcmp(cmd, "keygen") == 0)
        rc = tide_keygen_main(argc - 1, argv + 1);
    else if (strcmp(cmd, "encrypt") == 0)
        rc = tide_encrypt_main(argc - 1, argv + 1);
    else if (strcmp(cmd, "decrypt") == 0)
        rc = tide_decrypt_main(argc - 1, argv + 1);
    else if (cmd[0] == '-' || strstr(cmd, ".lua") != NULL || strstr(cmd, ".py") != NULL)
        rc = tide_run_main(argc - 1, argv + 1); /* Locust style: tide -f x.lua ... */
    else {
        fprintf(stderr, "tide: unknown command \"%s\" (see 'tide help')\n", cmd);
        rc = TIDE_EXIT_USAGE;
    }
    curl_global_cleanup();
    return rc;
}
