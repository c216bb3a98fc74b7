/* config.h: the resolved description of a run: script, host, scenarios with their executors,
 * thresholds, environment. Built from the script's `options` table and the CLI (CLI wins). */
#ifndef TIDE_CONFIG_H
#define TIDE_CONFIG_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum tide_executor {
    TIDE_EXEC_CONSTANT_VUS,
    TIDE_EXEC_RAMPING_VUS,
    TIDE_EXEC_PER_VU_ITERATIONS,
    TIDE_EXEC_SHARED_ITERATIONS,
    TIDE_EXEC_CONSTANT_ARRIVAL_RATE,
    TIDE_EXEC_RAMPING_ARRIVAL_RATE,
};

struct tide_stage {
    int64_t duration_us;
    double target; /* VUs, or arrivals per time unit for ramping-arrival-rate */
};

struct tide_kv {
    char *key;
    char *value;
};

struct tide_scenario {
    char *name;
    enum tide_executor executor;
    char *exec; /* function name, default "run" */
    int64_t start_time_us;
    int vus;             /* constant-vus, *-iterations */
    int start_vus;       /* ramping-vus */
    int64_t duration_us; /* constant-vus, constant-arrival-rate */
    int64_t iterations;  /* per VU or shared */
    struct tide_stage *stages;
    int nstages;
    int64_t graceful_ramp_down_us;
    int64_t graceful_stop_us;
    int64_t max_duration_us; /* *-iterations */
    double rate;             /* arrivals per time_unit */
    double start_rate;
    int64_t time_unit_us;
    int pre_allocated_vus;
    int max_vus;
    int64_t max_queue; /* arrivals waiting for a VU; beyond: dropped_iterations */
    bool poisson;
    struct tide_kv *tags;
    int ntags;
};

struct tide_threshold_spec {
    char *key;  /* "http_req_duration{name:login}" */
    char *expr; /* "p(95)<500" */
    bool abort_on_fail;
    int64_t delay_abort_eval_us;
    bool from_cli;
    char *plugin; /* the plugin package that added it (api.threshold), or NULL */
};

/* A plugin package that loaded: as the manifest and summary.json list it. */
struct tide_plugin_info {
    char *name, *version, *path;
    char sha256[65];
};

struct tide_config {
    char *script_path;   /* as given */
    char *script_dir;    /* absolute */
    char *script_source; /* file contents */
    size_t script_len;
    char *script_name; /* base name without .lua, for the run id */
    char *host;        /* base URL for relative URLs, no trailing slash */
    bool insecure;
    int transport; /* enum tide_transport_choice: --transport, options.transport */
    char *tls_ca, *tls_cert, *tls_key; /* --cacert/--cert/--key, options.tls; NULL: none */
    bool http2;  /* --http2, options.http2: every request asks for HTTP/2 (libcurl serves it) */
    char *proxy; /* options.proxy: every request's proxy ("": none); NULL: the environment's */
    bool allow_read_anywhere;
    int threads;
    int64_t warmup_us;
    bool quiet;
    char *out_dir;        /* NULL: report/<id> */
    int64_t retention_us; /* options.retention: runs beside this one older than it are purged */
    char *sign_key;       /* --sign: the manifest is signed with this OpenSSH key; NULL: not */
    char *csv_prefix;     /* Locust --csv */
    char *html_path;      /* Locust --html */
    bool verify_fails_run;
    bool bundle, bundle_data; /* --bundle / options.bundle: copy the inputs into bundle/ */
    bool fail_on_saturation;
    int64_t vu_memory; /* Lua bytes per VU (--vu-memory); 0: TIDE_VU_MEMORY_DEFAULT */
    bool summary_trend_stats_set;
    struct tide_scenario *scenarios;
    int nscenarios;
    struct tide_threshold_spec *thresholds;
    int nthresholds;
    struct tide_kv *env; /* --env K=V */
    int nenv;
    struct tide_kv *tags; /* --tag K=V, on every sample */
    int ntags;
    char **plugins; /* resolved plugin files, run after the top level in every environment */
    int nplugins;
    struct tide_plugin_info *plugin_info; /* the packages among them (plugins.h) */
    int nplugin_info;
    bool target_inprocess; /* --target: start the built-in API */
    /* time limits of the lifecycle calls (0: none): setup(); each of teardown(), verify() and
     * handle_summary(); each hook event's handlers */
    int64_t setup_timeout_us, teardown_timeout_us, hook_timeout_us;
    /* --segment I/N (segment.h): this process runs share segment_index (0-based) of
     * segment_count; count 0 or 1: the whole test */
    int segment_index, segment_count;
};

void tide_config_free(struct tide_config *c);
int64_t tide_scenario_end_us(const struct tide_scenario *s); /* planned end, 0 = open */
const char *tide_executor_name(enum tide_executor e);

#endif
