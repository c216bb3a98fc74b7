/* cli.h: the `tide run` command line, including Locust's aliases, before it is merged with the
 * script's options. Unset numbers are -1. */
#ifndef TIDE_CLI_H
#define TIDE_CLI_H
#include <stdbool.h>
#include <stdint.h>
#include "config.h"
#include "err.h"

#define TIDE_CLI_MAX 64

struct tide_cli {
    const char *script;
    const char *host;
    int vus;
    int64_t duration_us;
    int64_t iterations;
    struct tide_stage stages[TIDE_CLI_MAX];
    int nstages;
    double rate;
    int threads;
    const char *out;
    const char *thresholds[TIDE_CLI_MAX];
    int nthresholds;
    int64_t warmup_us;
    int64_t hook_timeout_us; /* --hook-timeout */
    struct tide_kv tags[TIDE_CLI_MAX];
    int ntags;
    struct tide_kv env[TIDE_CLI_MAX];
    int nenv;
    const char *plugins[TIDE_CLI_MAX];
    int nplugins;
    bool quiet, insecure, allow_read, target, fail_on_saturation;
    int users;         /* Locust -u */
    double spawn_rate; /* Locust -r */
    const char *csv_prefix;
    const char *html_path;
    int64_t vu_memory;          /* --vu-memory in bytes; 0: not given */
    bool no_default_thresholds; /* --no-default-thresholds */
    bool locust_flags;          /* a flag only Locust has was used (verdict.h: Locust's rule) */
    int exit_code_on_error;     /* Locust's --exit-code-on-error; -1: not given */
    const char *allow_hosts;    /* --allow-hosts LIST; NULL: any host */
    bool no_samples;            /* --no-samples: no sampled error bodies */
    const char *streams[TIDE_CLI_MAX]; /* --stream KIND=TARGET (stream.h) */
    const char *dashboard;             /* --dashboard [ADDR] (dashboard.h); NULL: none */
    int nstreams;
    const char *sign_key;     /* --sign KEY: OpenSSH Ed25519 key signing the manifest */
    bool bundle, bundle_data; /* --bundle, --bundle-data (bundle.h) */
    /* a test split over processes (docs/distributed.md) */
    const char *segment;    /* --segment I/N (1-based) */
    int segments;           /* --segments N (with JOB_COMPLETION_INDEX); 0: not given */
    const char *start_at;   /* --start-at TIME */
    const char *phase;      /* --phase setup|run|teardown */
    const char *setup_data; /* --setup-data FILE */
    /* TLS files for every request (options.tls): --cacert FILE, --cert FILE, --key FILE */
    const char *cacert, *cert, *key;
    const char *transport; /* --transport auto|native|curl; NULL: not given */
};

/* Parses argv (after "run"). Returns 0, or -1 with a one-line message: also for a Python
 * script (scenarios are Lua) and for k6's "--out json=FILE" (--out takes a folder). */
int tide_cli_parse_run(int argc, char **argv, struct tide_cli *cli, struct tide_err *err);
/* True when the CLI sets the load shape (so the script's scenarios are replaced). */
bool tide_cli_shapes_load(const struct tide_cli *cli);

#endif
