/* main.c: the tide command: dispatches to run, demo, target, report, compare, verify. Only
 * this file exits. */
#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "audit_cmd.h"
#include "ledger.h"
#include "purge.h"
#include "export_cmd.h"
#include "export_events.h"
#include "crypt_cli.h"
#include "export_s3.h"
#include "log.h"
#include "plugins.h"
#include "k8s.h"
#include "merge.h"
#include "report.h"
#include "helpgen.h"
#include "init_cmd.h"
#include "plan.h"
#include "suggest.h"
#include "run.h"
#include "target.h"

static const char usage[] =
    "usage: tide <command> [options]\n"
    "\n"
    "  tide run SCRIPT [options]   run a scenario (tide run --help lists the options)\n"
    "  tide inspect SCRIPT [run options] [--json] [--strict]\n"
    "                              print the plan of a run without running it (exit 99 with\n"
    "                              --strict when it has a warning; docs/cli.md#tide-inspect)\n"
    "  tide demo                   built-in API + bundled scenario + report, in under a minute\n"
    "  tide init [FILE.lua] [--from-locust LOCUSTFILE]   a starter scenario, or a locustfile\n"
    "                              translated (best effort, TODO comments; tide init --help)\n"
    "  tide target [--port P]      the built-in reference API alone (tide target --help)\n"
    "  tide report DIR             re-render report.html and CSVs from DIR/summary.json\n"
    "  tide compare BASE NEW       regression between two runs (exit 99 beyond tolerance)\n"
    "                              (--preset default|strict|lenient|none, --max-regression,\n"
    "                              --format text|markdown|json, --md FILE: tide compare -h)\n"
    "  tide verify DIR             check a run folder's manifest hashes and audit chain\n"
    "                              (--allowed-signers FILE: and its signature)\n"
    "  tide sign DIR --key KEY     sign a run's manifest (OpenSSH Ed25519 key, ssh-keygen -Y)\n"
    "  tide audit [DIR]            print the access ledger of the runs in DIR (report)\n"
    "  tide purge RUN|--older-than AGE|--scenario NAME|--tag K=V [--dry-run] [--key KEY]\n"
    "                              erase runs, with an erasure receipt (docs/sovereignty.md)\n"
    "  tide verify-receipt FILE    check an erasure receipt (--allowed-signers FILE)\n"
    "  tide export DIR --car FILE | --ipfs [URL] [--encrypt-to age1...]   as IPFS content (tide "
    "export "
    "--help)\n"
    "  tide import FILE.car DIR    a run folder back from a CAR, then verified\n"
    "  tide verify FILE.car | DIR --cid CID   a CAR's blocks / a folder against its CID\n"
    "  tide plugins [SCENARIO]     list the plugins found by name, and whether each loads\n"
    "  tide merge DIR... --out DIR one run folder from a split test's segments (tide merge -h)\n"
    "  tide k8s manifest SCENARIO --segments N --image IMG   Kubernetes Jobs of a split test\n"
    "  tide export DIR --s3 s3://BUCKET/PREFIX [--encrypt-to age1...]   copy a run to S3\n"
    "  tide keygen --out KEYFILE   a new age identity (prints its age1... recipient)\n"
    "  tide encrypt FILE --to age1... | tide decrypt FILE.age --identity KEYFILE\n"
    "  export, purge, merge: --plugin NAME|PATH, --script FILE   hooks on export_done,\n"
    "                              purge_done, merge_done (docs/extending.md)\n"
    "  tide completion bash|zsh    shell completion script (docs/cli.md)\n"
    "  tide version | help [--man] (and tide COMMAND --help: that command's usage)\n"
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
    "  --stream json=FILE     also write one JSON line per metric and tag set per second\n"
    "                         (json=- for stdout; docs/streams.md)\n"
    "  --stream prometheus=URL\n"
    "                         also push per-second series to a Prometheus remote-write\n"
    "                         endpoint, e.g. http://127.0.0.1:9090/api/v1/write\n"
    "  --dashboard [ADDR]     serve a live page of the run (default 127.0.0.1, a free port;\n"
    "                         the URL is printed at start; docs/reports.md#live-dashboard)\n"
    "  --threshold 'M: EXPR'  add a threshold, e.g. 'http_req_duration: p(95)<300'\n"
    "  --no-default-thresholds  no default checks (a run fails by default when no request\n"
    "                         succeeded, over 10% of requests or iterations failed, or no\n"
    "                         iteration completed; a threshold on the same metric replaces one)\n"
    "  --warmup D             leave the first D out of thresholds and summary\n"
    "  --hook-timeout D       stop a hook event's handlers after D (default 10s; 0: no limit)\n"
    "  --vu-memory SIZE       Lua memory per VU, e.g. 64MB\n"
    "  --tag K=V              tag every sample\n"
    "  --env K=V              value for tide.env(K) (treated as a secret)\n"
    "  --plugin NAME|PATH     a plugin (a Lua file, a folder with plugin.lua, or a name found\n"
    "                         by `tide plugins`), set up after the scenario's top level\n"
    "  --target               start the built-in API in-process and use it as host\n"
    "  --insecure             do not verify TLS certificates\n"
    "  --cacert FILE          also trust the CA certificates in FILE (PEM; options.tls.ca)\n"
    "  --cert FILE            client certificate (PEM; options.tls.cert), with --key FILE\n"
    "  --key FILE             the client certificate's private key (PEM; options.tls.key)\n"
    "  --transport T          auto (default), native or curl: the HTTP client (docs/http.md)\n"
    "  --http2                every request asks for HTTP/2 (served by libcurl; options.http2)\n"
    "  --allow-read           let tide.data read files outside the scenario's folder\n"
    "  --allow-hosts LIST     refuse requests to hosts outside LIST (comma-separated)\n"
    "  --no-samples           keep no sampled error bodies (error_samples.json)\n"
    "  --fail-on-saturation   fail (99) when the load generator itself was saturated\n"
    "  --quiet                no progress line and no summary\n"
    "  --sign KEY             sign manifest.json with an OpenSSH Ed25519 key (manifest.json.sig)\n"
    "  --bundle               copy scenario, plugins, modules, data into RUN/bundle/ (portable)\n"
    "  --bundle-data          --bundle, with data files that look like credentials too\n"
    "  split tests (docs/distributed.md):\n"
    "  --segment I/N          run the I-th (1-based) of N equal shares of every scenario\n"
    "  --segments N           N shares, I from JOB_COMPLETION_INDEX (0-based; Kubernetes)\n"
    "  --start-at TIME        start at TIME: RFC 3339, epoch seconds or now+2s (exit 2 when\n"
    "                         already more than 1 s past)\n"
    "  --phase P              setup: setup() alone, data to --setup-data FILE; teardown:\n"
    "                         teardown() alone with that data; run: neither\n"
    "  --setup-data FILE      setup()'s data for a segment (then no setup() or teardown())\n"
    "  --config FILE          settings from FILE: tide.toml (a TOML subset) or a locust.conf\n"
    "                         (default: ./tide.toml when present; docs/cli.md#configuration)\n"
    "                         Every flag is also a variable: TIDE_VUS, TIDE_DURATION, ... "
    "(Locust's\n"
    "                         flags: LOCUST_USERS, ...). Precedence: flags > env > config > "
    "script\n"
    "  short forms: -H --host, -d --duration, -i --iterations, -s --stage, -o --out,\n"
    "               -e --env, -q --quiet\n"
    "  Locust aliases: -f/--locustfile FILE, -u/--users USERS, -r/--spawn-rate SPAWN_RATE,\n"
    "                  -t/--run-time D, -H/--host URL, --headless, --autostart, --csv PREFIX,\n"
    "                  --html FILE, --exit-code-on-error N, --only-summary (no progress\n"
    "                  line), -L/--loglevel LEVEL (DEBUG, INFO, WARNING, ERROR), --stop-timeout D\n"
    "                  (every scenario's graceful stop), -T/--tags TAG[,TAG] (only the scenarios\n"
    "                  tagged so in options.scenarios.NAME.tags)\n"
    "                  (with these and no threshold, any failure exits 1, or N)\n"
    "\n"
    "exit codes: 0 passed; 99 thresholds, default checks, verify or compare failed; 2 bad\n"
    "            usage or script; 1 internal error (or Locust's rule); 108 tide.abort();\n"
    "            130 interrupted (report still written). See docs/cli.md#exit-codes.\n";

static const char verify_usage[] =
    "usage: tide verify DIR [--allowed-signers FILE]\n"
    "\n"
    "Checks a run folder: every file's SHA-256 against manifest.json, that nothing was added,\n"
    "the hash chain of events.jsonl and its head and count in the manifest, the manifest\n"
    "against the ledger's record of the run, and manifest.json.sig when present (with\n"
    "--allowed-signers: required, and its key must be listed). Exit 0 intact, 99 changed,\n"
    "incomplete or badly signed, 2 not a run folder.\n"
    "\n"
    "  tide verify FILE.car      every block's hash and every link of a CAR (docs/export.md)\n"
    "  tide verify DIR --cid CID  the folder's UnixFS CID equals CID (and its manifest holds)\n";

/* Every command, for "did you mean" and completion. */
static const char *const commands[] = {
    "run",     "demo",           "target",     "report",  "compare", "verify", "sign",    "audit",
    "purge",   "verify-receipt", "plugins",    "merge",   "k8s",     "export", "import",  "keygen",
    "encrypt", "decrypt",        "completion", "version", "help",    "init",   "inspect", NULL};

static const char demo_usage[] =
    "usage: tide demo [run options]\n"
    "\n"
    "Starts the built-in API in-process, runs the bundled demo scenario (login, CRUD, search,\n"
    "about 30 s) and prints where the report is. Run options (below) are passed to tide run.\n"
    "\n";

static const char crypt_usage[] =
    "usage: tide keygen --out KEYFILE\n"
    "       tide encrypt FILE --to RECIPIENT [--to RECIPIENT...] [--out OUT]\n"
    "       tide decrypt FILE --identity KEYFILE [--out OUT]\n"
    "\n"
    "keygen writes a new age identity (0600) and prints its age1... recipient; encrypt writes\n"
    "FILE.age for the recipients; decrypt reads it back with an identity ('-': stdout).\n"
    "Exit 0; 99 a file that does not decrypt; 2 bad usage. See docs/export-s3.md#keys.\n";

static const char inspect_usage[] =
    "usage: tide inspect SCRIPT [run options] [--json] [--strict]\n"
    "\n"
    "Loads SCRIPT as tide run would, with the same flags, environment and config file, and\n"
    "prints the plan: scenarios, executors, VUs, rates, durations, thresholds, outputs, where\n"
    "each setting came from (cli, env, config, script, default) and warnings. Nothing is sent\n"
    "and setup() does not run. --json: the plan as JSON (docs/cli.md#tide-inspect); --strict:\n"
    "exit 99 when there is a warning, one line each on stderr. Exit 2: the script or the\n"
    "options do not load.\n"
    "\n";

static bool wants_flag(int argc, char **argv, const char *flag)
{
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], flag) == 0)
            return true;
    }
    return false;
}

static bool wants_help(int argc, char **argv)
{
    return wants_flag(argc, argv, "--help") || wants_flag(argc, argv, "-h");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage, stderr);
        fputs("see 'tide run --help' for the run options\n", stderr);
        return TIDE_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    const struct tide_help_text help = {commands, usage, run_options};
    if (strcmp(cmd, "help") == 0 && argc > 2 && strcmp(argv[2], "--man") == 0) {
        tide_help_man(stdout, &help);
        return TIDE_EXIT_OK;
    }
    if (strcmp(cmd, "completion") == 0)
        return tide_completion_main(argc, argv, &help);
    if ((strcmp(cmd, "keygen") == 0 || strcmp(cmd, "encrypt") == 0 ||
         strcmp(cmd, "decrypt") == 0) &&
        wants_help(argc - 2, argv + 2)) {
        fputs(crypt_usage, stdout);
        return TIDE_EXIT_OK;
    }
    if (strcmp(cmd, "inspect") == 0 && wants_help(argc - 2, argv + 2)) {
        fputs(inspect_usage, stdout);
        fputs(run_options, stdout);
        return TIDE_EXIT_OK;
    }
    if (strcmp(cmd, "demo") == 0 && wants_help(argc - 2, argv + 2)) {
        fputs(demo_usage, stdout);
        fputs(run_options, stdout);
        return TIDE_EXIT_OK;
    }
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
    if (strcmp(cmd, "init") == 0) { /* writes files only: no curl */
        if (wants_help(argc - 2, argv + 2)) {
            fputs(tide_init_usage, stdout);
            return TIDE_EXIT_OK;
        }
        return tide_init_main(argc - 1, argv + 1);
    }
    if ((strcmp(cmd, "export") == 0 || strcmp(cmd, "import") == 0) &&
        wants_help(argc - 2, argv + 2)) {
        tide_export_usage();
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
    else if (strcmp(cmd, "inspect") == 0)
        rc = tide_inspect_main(argc - 2, argv + 2);
    else if (strcmp(cmd, "target") == 0)
        rc = tide_target_main(argc - 1, argv + 1);
    else if (strcmp(cmd, "report") == 0) {
        rc = tide_report_main(argc - 1, argv + 1);
        for (int i = 2; i < argc; i++) /* the access ledger beside the run (ledger.h) */
            tide_ledger_note(argv[i], "report", rc);
    } else if (strcmp(cmd, "compare") == 0) {
        rc = tide_compare_main(argc - 1, argv + 1);
        for (int i = 2; i < argc; i++)
            tide_ledger_note(argv[i], "compare", rc);
    } else if (strcmp(cmd, "verify") == 0) {
        rc = tide_verify_is_export(argc - 1, argv + 1) /* FILE.car, DIR --cid CID */
                 ? tide_verify_export_main(argc - 1, argv + 1)
                 : tide_verify_main(argc - 1, argv + 1);
    } else if (strcmp(cmd, "export") == 0) {
        rc = tide_export_events_main(argc - 1, argv + 1); /* CAR/IPFS or --s3, then hooks */
        if (argc > 2 && argv[2][0] != '-')
            tide_ledger_note(argv[2], "export", rc);
    } else if (strcmp(cmd, "import") == 0)
        rc = tide_import_main(argc - 1, argv + 1);
    else if (strcmp(cmd, "sign") == 0)
        rc = tide_sign_main(argc - 1, argv + 1);
    else if (strcmp(cmd, "purge") == 0)
        rc = tide_purge_main(argc - 1, argv + 1);
    else if (strcmp(cmd, "verify-receipt") == 0)
        rc = tide_verify_receipt_main(argc - 1, argv + 1);
    else if (strcmp(cmd, "audit") == 0)
        rc = tide_audit_main(argc - 1, argv + 1);
    else if (strcmp(cmd, "plugins") == 0)
        rc = tide_plugins_main(argc - 2, argv + 2);
    else if (strcmp(cmd, "merge") == 0)
        rc = tide_merge_main(argc - 1, argv + 1);
    else if (strcmp(cmd, "k8s") == 0)
        rc = tide_k8s_main(argc - 1, argv + 1);
    else if (strcmp(cmd, "keygen") == 0)
        rc = tide_keygen_main(argc - 1, argv + 1);
    else if (strcmp(cmd, "encrypt") == 0)
        rc = tide_encrypt_main(argc - 1, argv + 1);
    else if (strcmp(cmd, "decrypt") == 0)
        rc = tide_decrypt_main(argc - 1, argv + 1);
    else if (cmd[0] == '-' || strstr(cmd, ".lua") != NULL || strstr(cmd, ".py") != NULL)
        rc = tide_run_main(argc - 1, argv + 1); /* Locust style: tide -f x.lua ... */
    else {
        const char *near = tide_suggest(cmd, commands);
        if (near != NULL)
            fprintf(stderr, "tide: unknown command \"%s\" (did you mean '%s'? see 'tide help')\n",
                    cmd, near);
        else
            fprintf(stderr, "tide: unknown command \"%s\" (see 'tide help')\n", cmd);
        rc = TIDE_EXIT_USAGE;
    }
    curl_global_cleanup();
    return rc;
}
