/* cli.h: the `tide run` command line, including Locust's aliases, before it is merged with the
 * script's options. Unset numbers are -1. */
#ifndef TIDE_CLI_H
#define TIDE_CLI_H
#include <stdbool.h>
#include <stdint.h>
#include "config.h"
#include "err.h"

#define TIDE_CLI_MAX 64

/* Where a setting came from, lowest precedence first: CLI > env > config > script > default
 * (docs/cli.md#precedence). */
enum tide_source { TIDE_SRC_DEFAULT, TIDE_SRC_SCRIPT, TIDE_SRC_CONFIG, TIDE_SRC_ENV, TIDE_SRC_CLI };
const char *tide_source_name(enum tide_source s); /* "default", "script", "config", ... */

/* A flag that was given, under its long name ("--users" for -u), with the layer that set it
 * last and its last value (NULL for a switch). "script" is the positional SCRIPT. */
struct tide_cli_given {
    const char *flag;
    const char *value;
    enum tide_source source;
};

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
    enum tide_source threshold_sources[TIDE_CLI_MAX]; /* the layer of each (runconf.h) */
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
    bool http2;            /* --http2 */
    /* configuration layers and Locust's remaining flags (issue 16; runconf.h) */
    const char *config;                    /* --config FILE */
    bool only_summary;                     /* Locust's --only-summary: no progress line */
    const char *loglevel;                  /* Locust's --loglevel: DEBUG, INFO, WARNING, ERROR */
    int64_t stop_timeout_us;               /* Locust's --stop-timeout: every graceful stop; -1 */
    const char *select_tags[TIDE_CLI_MAX]; /* -T/--tags: run the scenarios tagged so */
    int nselect_tags;
    enum tide_source source; /* the layer being parsed */
    struct tide_cli_given given[2 * TIDE_CLI_MAX];
    int ngiven;
    char **owned; /* the config and environment layers' strings, which values point into */
    int nowned;
    const char *notes[TIDE_CLI_MAX]; /* keys of a locust.conf tide ignores (shown in the plan) */
    int nnotes;
};

/* Parses argv (after "run"). Returns 0, or -1 with a one-line message: also for a Python
 * script (scenarios are Lua) and for k6's "--out json=FILE" (--out takes a folder). */
int tide_cli_parse_run(int argc, char **argv, struct tide_cli *cli, struct tide_err *err);

/* The same in steps, for layers (runconf.h): init; each layer's flags in precedence order, the
 * later overriding the earlier (a list flag -- --stage, -T -- from a higher layer replaces the
 * lower one's; --threshold, --tag, --env, --plugin, --stream add up); then the final checks.
 * Values point into argv, which must outlive cli. */
void tide_cli_init(struct tide_cli *cli);
int tide_cli_parse_layer(int argc, char **argv, enum tide_source source, struct tide_cli *cli,
                         struct tide_err *err);
int tide_cli_finish(struct tide_cli *cli, struct tide_err *err);
void tide_cli_free(struct tide_cli *cli); /* the owned strings */
/* Every long flag `tide run` accepts, NULL-terminated (the table the environment variables,
 * the config keys and "did you mean" derive from). */
const char *const *tide_cli_long_flags(void);
bool tide_cli_takes_value(const char *flag); /* --dashboard: optional, false here */
/* The long name of a flag ("-u" -> "--users"); the flag itself when it has none. */
const char *tide_cli_long_name(const char *flag);
/* The flag as given (long name), or NULL when no layer gave it. */
const struct tide_cli_given *tide_cli_given_of(const struct tide_cli *cli, const char *flag);
/* True when the CLI sets the load shape (so the script's scenarios are replaced). */
bool tide_cli_shapes_load(const struct tide_cli *cli);

#endif
