/* Unit tests of `tide run` option parsing (cli.c) and of merging the script's options table
 * with the CLI into scenarios (options.c). */
#include <stdlib.h>
#include <unistd.h>
#include "../check.h"
#include "cli.h"
#include "options.h"

static char dir[] = "/tmp/tide-test-options-XXXXXX";

static const char *script(const char *name, const char *text)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

/* Parses a NULL-terminated argument list (copied: the parser may write into it). */
static int parse(struct tide_cli *cli, struct tide_err *err, char **argv)
{
    int argc = 0;
    while (argv[argc] != NULL)
        argc++;
    return tide_cli_parse_run(argc, argv, cli, err);
}

static void test_cli_parses_flags(void)
{
    struct tide_cli cli;
    struct tide_err err = {{0}};
    char a0[] = "s.lua", a1[] = "--vus", a2[] = "50", a3[] = "--duration=1m30s", a4[] = "--stage",
         a5[] = "10s:20", a6[] = "--tag", a7[] = "team=core", a8[] = "--threshold",
         a9[] = "http_req_duration: p(95)<300", a10[] = "--quiet";
    char *argv[] = {a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, NULL};
    CHECK(parse(&cli, &err, argv) == 0);
    CHECK_STR(cli.script, "s.lua");
    CHECK(cli.vus == 50);
    CHECK(cli.duration_us == 90000000);
    CHECK(cli.nstages == 1 && cli.stages[0].duration_us == 10000000 && cli.stages[0].target == 20);
    CHECK(cli.ntags == 1);
    CHECK_STR(cli.tags[0].key, "team");
    CHECK_STR(cli.tags[0].value, "core");
    CHECK(cli.nthresholds == 1 && cli.quiet);
    CHECK(tide_cli_shapes_load(&cli));
}

static void test_cli_accepts_locust_aliases(void)
{
    struct tide_cli cli;
    struct tide_err err = {{0}};
    char a0[] = "--headless", a1[] = "-f", a2[] = "x.lua", a3[] = "-u", a4[] = "100", a5[] = "-r",
         a6[] = "10", a7[] = "-t", a8[] = "5m", a9[] = "-H", a10[] = "http://h", a11[] = "--csv",
         a12[] = "out/run", a13[] = "--html", a14[] = "r.html";
    char *argv[] = {a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, NULL};
    CHECK(parse(&cli, &err, argv) == 0);
    CHECK_STR(cli.script, "x.lua");
    CHECK(cli.users == 100 && cli.spawn_rate == 10 && cli.duration_us == 300000000);
    CHECK_STR(cli.host, "http://h");
    CHECK_STR(cli.csv_prefix, "out/run");
    CHECK_STR(cli.html_path, "r.html");
}

static void expect_cli_error(const char *want, char **argv)
{
    struct tide_cli cli;
    struct tide_err err = {{0}};
    CHECK(parse(&cli, &err, argv) == -1);
    CHECK_STR(err.msg, want);
}

static void test_cli_rejects_bad_input(void)
{
    char s[] = "s.lua", vus[] = "--vus", bad[] = "ten", dur[] = "--duration", five[] = "5x",
         bogus[] = "--bogus", two[] = "two.lua", st[] = "--stage", ten[] = "10s", r[] = "-r",
         three[] = "3";
    expect_cli_error("--vus \"ten\": expected a whole number from 0 to 10000000",
                     (char *[]){s, vus, bad, NULL});
    expect_cli_error("--duration: duration \"5x\": unknown unit 'x' (use ms, s, m or h, e.g. "
                     "1h30m)",
                     (char *[]){s, dur, five, NULL});
    expect_cli_error("unknown option --bogus (see 'tide help')", (char *[]){s, bogus, NULL});
    expect_cli_error("unexpected argument \"two.lua\" (one script per run)",
                     (char *[]){s, two, NULL});
    expect_cli_error("--stage \"10s\": expected DURATION:TARGET, e.g. 30s:50",
                     (char *[]){s, st, ten, NULL});
    expect_cli_error("--vus needs a value (see 'tide help')", (char *[]){s, vus, NULL});
    expect_cli_error("no script given (usage: tide run SCRIPT [options])",
                     (char *[]){vus, three, NULL});
    expect_cli_error("-r/--spawn-rate needs -u/--users", (char *[]){s, r, three, NULL});
}

/* Builds the config of 'text' with extra CLI arguments. */
static int build(const char *text, struct tide_config *cfg, struct tide_err *err, char **extra)
{
    struct tide_cli cli;
    char path[256];
    snprintf(path, sizeof path, "%s", script("s.lua", text));
    char *argv[32] = {path};
    int argc = 1;
    for (int i = 0; extra != NULL && extra[i] != NULL; i++)
        argv[argc++] = extra[i];
    if (tide_cli_parse_run(argc, argv, &cli, err) != 0)
        return -1;
    return tide_options_build(&cli, cfg, err);
}

static void test_options_default_is_one_iteration(void)
{
    struct tide_config cfg;
    struct tide_err err = {{0}};
    CHECK(build("function run() end", &cfg, &err, NULL) == 0);
    CHECK(cfg.nscenarios == 1);
    CHECK(cfg.scenarios[0].executor == TIDE_EXEC_PER_VU_ITERATIONS);
    CHECK(cfg.scenarios[0].vus == 1 && cfg.scenarios[0].iterations == 1);
    tide_config_free(&cfg);
}

static void test_options_reads_scenarios(void)
{
    struct tide_config cfg;
    struct tide_err err = {{0}};
    const char *text =
        "options = { host = 'http://h:1/', scenarios = {\n"
        "  b = { executor = 'ramping-vus', exec = 'browse', startVUs = 2,\n"
        "        stages = { { duration = '30s', target = 50 }, { duration = 60, target = 0 } } },\n"
        "  a = { executor = 'constant-arrival-rate', rate = 20, time_unit = '1s',\n"
        "        duration = '2m', pre_allocated_vus = 50, tags = { kind = 'w' } } },\n"
        "  thresholds = { http_req_duration = { 'p(95)<300', { threshold = 'p(99)<800',\n"
        "    abort_on_fail = true, delay_abort_eval = '10s' } } } }\n"
        "function browse() end\nfunction run() end\n";
    CHECK(build(text, &cfg, &err, NULL) == 0);
    if (err.msg[0])
        fprintf(stderr, "  %s\n", err.msg);
    CHECK_STR(cfg.host, "http://h:1");
    CHECK(cfg.nscenarios == 2);
    CHECK_STR(cfg.scenarios[0].name, "a"); /* sorted by name */
    CHECK(cfg.scenarios[0].executor == TIDE_EXEC_CONSTANT_ARRIVAL_RATE);
    CHECK(cfg.scenarios[0].rate == 20 && cfg.scenarios[0].pre_allocated_vus == 50);
    CHECK(cfg.scenarios[0].max_queue == 200); /* 10 s worth of arrivals */
    CHECK(cfg.scenarios[0].ntags == 1);
    CHECK_STR(cfg.scenarios[1].exec, "browse");
    CHECK(cfg.scenarios[1].start_vus == 2 && cfg.scenarios[1].nstages == 2);
    CHECK(cfg.scenarios[1].stages[1].duration_us == 60000000);
    CHECK(tide_scenario_end_us(&cfg.scenarios[1]) == 90000000);
    CHECK(cfg.nthresholds == 2);
    CHECK(cfg.thresholds[1].abort_on_fail && cfg.thresholds[1].delay_abort_eval_us == 10000000);
    tide_config_free(&cfg);
}

static void test_cli_replaces_scenarios(void)
{
    struct tide_config cfg;
    struct tide_err err = {{0}};
    char u[] = "-u", n[] = "10", r[] = "-r", two[] = "2", t[] = "-t", d[] = "1m", h[] = "-H",
         host[] = "http://cli";
    const char *text = "options = { host = 'http://script', scenarios = { x = {\n"
                       "  executor = 'constant-vus', vus = 3, duration = '5s' } } }\n"
                       "function run() end\n";
    CHECK(build(text, &cfg, &err, (char *[]){u, n, r, two, t, d, h, host, NULL}) == 0);
    CHECK(cfg.nscenarios == 1);
    CHECK(cfg.scenarios[0].executor == TIDE_EXEC_RAMPING_VUS);
    CHECK(cfg.scenarios[0].nstages == 2);
    CHECK(cfg.scenarios[0].stages[0].duration_us == 5000000); /* 10 users at 2/s */
    CHECK(cfg.scenarios[0].stages[1].duration_us == 55000000);
    CHECK(cfg.scenarios[0].stages[1].target == 10);
    CHECK_STR(cfg.host, "http://cli"); /* CLI wins */
    tide_config_free(&cfg);

    char it[] = "--iterations", k[] = "7", v[] = "--vus", three[] = "3";
    CHECK(build("function run() end", &cfg, &err, (char *[]){it, k, v, three, NULL}) == 0);
    CHECK(cfg.scenarios[0].executor == TIDE_EXEC_SHARED_ITERATIONS);
    CHECK(cfg.scenarios[0].iterations == 7 && cfg.scenarios[0].vus == 3);
    tide_config_free(&cfg);

    char rate[] = "--rate", fifty[] = "50", dur[] = "--duration", ten[] = "10s";
    CHECK(build("function run() end", &cfg, &err, (char *[]){rate, fifty, dur, ten, NULL}) == 0);
    CHECK(cfg.scenarios[0].executor == TIDE_EXEC_CONSTANT_ARRIVAL_RATE);
    CHECK(cfg.scenarios[0].rate == 50 && cfg.scenarios[0].duration_us == 10000000);
    tide_config_free(&cfg);
}

static void test_cli_duration_replaces_script_stages(void)
{
    struct tide_config cfg;
    struct tide_err err = {{0}};
    char dur[] = "--duration", two[] = "2s";
    const char *text = "options = { stages = { { duration = '6s', target = 2 } },\n"
                       "  thresholds = { z = { 'count>1' }, checks = { 'rate>0.9' },\n"
                       "                 a = { 'count>0', 'count<9' } } }\n"
                       "function run() end\n";
    CHECK(build(text, &cfg, &err, (char *[]){dur, two, NULL}) == 0);
    CHECK(cfg.scenarios[0].executor == TIDE_EXEC_CONSTANT_VUS);
    CHECK(cfg.scenarios[0].duration_us == 2000000);
    /* thresholds in a stable order: keys sorted, expressions as written */
    CHECK(cfg.nthresholds == 4);
    if (cfg.nthresholds == 4) {
        CHECK_STR(cfg.thresholds[0].key, "a");
        CHECK_STR(cfg.thresholds[0].expr, "count>0");
        CHECK_STR(cfg.thresholds[1].expr, "count<9");
        CHECK_STR(cfg.thresholds[2].key, "checks");
        CHECK_STR(cfg.thresholds[3].key, "z");
    }
    tide_config_free(&cfg);
}

static void expect_build_error(const char *text, const char *want)
{
    struct tide_config cfg;
    struct tide_err err = {{0}};
    CHECK(build(text, &cfg, &err, NULL) == -1);
    if (strstr(err.msg, want) == NULL) {
        check_failures++;
        fprintf(stderr, "error \"%s\" does not contain \"%s\"\n", err.msg, want);
    }
    tide_config_free(&cfg);
}

static void test_options_rejects_bad_scripts(void)
{
    expect_build_error("function run(\n", "s.lua:2:");
    expect_build_error("local x = nil\nx.y = 1\n", "s.lua:2: attempt to index");
    expect_build_error("options = 5\nfunction run() end", "options must be a table");
    expect_build_error("options = { scenarios = { a = { executor = 'nope' } } }\n"
                       "function run() end",
                       "options.scenarios.a: unknown executor \"nope\"");
    expect_build_error("options = { scenarios = { a = { executor = 'constant-vus' } } }\n"
                       "function run() end",
                       "scenario a: constant-vus needs a duration");
    expect_build_error("options = { scenarios = { a = { executor = 'shared-iterations',\n"
                       "  exec = 'missing' } } }\nfunction run() end",
                       "exec function missing() is not defined");
    expect_build_error("options = { duration = '5q' }\nfunction run() end",
                       "options.duration: duration \"5q\": unknown unit");
    expect_build_error("options = { stages = { { duration = '5s' } } }\nfunction run() end",
                       "options.stages[1]: needs both duration and target");
    expect_build_error("local x = 1", "no function run()");
    /* found by tests/fuzz (fuzz_options): the cast to int64_t was undefined behaviour */
    expect_build_error("options = { vus = 1e24 }\nfunction run() end",
                       "options.vus: 1e+24 is too large");
}

/* Every option is type- and range-checked at start (issue 15): nothing wraps, nothing is
 * silently ignored. */
static void test_options_rejects_out_of_range(void)
{
    static const struct {
        const char *options, *error;
    } cases[] = {
        {"vus = 1e12", "options.vus: 1e+12 is too large (at most 10000000)"},
        {"vus = 2^31", "options.vus: 2.14748e+09 is too large"},
        {"vus = 0/0", "options.vus: expected a number >= 0"},
        {"vus = -1", "options.vus: expected a number >= 0"},
        {"vus = 1.5", "options.vus: expected a whole number"},
        {"iterations = 1e18", "options.iterations: 1e+18 is too large (at most 1000000000000)"},
        {"threads = 1e6", "options.threads: 1e+06 is too large (at most 256)"},
        {"duration = -5", "options.duration: expected a duration >= 0"},
        {"duration = 1/0", "options.duration: expected a duration >= 0"},
        {"duration = 1e300", "options.duration: 1e+300 s is more than 100 years"},
        {"duration = '99999999h'", "options.duration: \"99999999h\" is more than 100 years"},
        {"hook_timeout = 1e300", "options.hook_timeout: 1e+300 s is more than 100 years"},
        {"thresholds = 'p(95)<100'", "options.thresholds: expected a table of metric"},
        {"thresholds = { checks = { { threshold = 'rate>0', abortOnFail = 'yes' } } }",
         "options.thresholds[\"checks\"][1].abortOnFail: expected true or false, got a string"},
        {"stages = '1s:10'", "options.stages: expected a list of { duration"},
        {"stages = { { duration = '1s', target = 1e12 } }",
         "options.stages[1].target: 1e+12 is too large"},
        {"stages = { { duration = '1s', target = 2.5 } }",
         "scenario default: stages[1].target: 2.5 VUs (expected a whole number"},
        {"insecure = 'yes'", "options.insecure: expected true or false, got a string"},
        {"scenarios = { a = { executor = 'constant-vus', vus = 2, duration = '1s', maxVus = 3 } }",
         "options.scenarios.a: unknown option \"maxVus\" (did you mean \"maxVUs\"?)"},
        {"scenarios = { a = { executor = 'constant-vus', duration = '1s', [1] = 3 } }",
         "options.scenarios.a: keys must be option names"},
        {"scenarios = { a = { executor = 'constant-arrival-rate', rate = 1e300, duration = '1s' "
         "} }",
         "options.scenarios.a.rate: 1e+300 is too large (at most 1000000000)"},
        {"scenarios = { a = { executor = 'constant-arrival-rate', rate = 5, duration = '1s', "
         "maxVUs = 1e12 } }",
         "options.scenarios.a.max_vus: 1e+12 is too large (at most 10000000)"},
        {"scenarios = { a = { executor = 'ramping-vus', stages = { { duration = '1s', "
         "target = 2e7 } } } }",
         "scenario a: stages[1].target: 2e+07 VUs"},
        {"scenarios = { a = { executor = 'constant-vus', duration = '1s', poisson = 1 } }",
         "options.scenarios.a.poisson: expected true or false, got a number"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[512];
        snprintf(text, sizeof text, "options = { %s }\nfunction run() end", cases[i].options);
        expect_build_error(text, cases[i].error);
    }
    struct tide_config cfg;
    struct tide_err err = {{0}};
    const char *fine = "options = { vus = 10000000, iterations = 1e12, threads = 256,\n"
                       "  insecure = false, duration = '8760h' }\nfunction run() end";
    CHECK(build(fine, &cfg, &err, NULL) == 0);
    tide_config_free(&cfg);
}

static void test_options_time_limits(void)
{
    struct tide_config cfg;
    struct tide_err err = {{0}};
    CHECK(build("function run() end", &cfg, &err, NULL) == 0);
    CHECK(cfg.setup_timeout_us == 60000000 && cfg.teardown_timeout_us == 60000000);
    CHECK(cfg.hook_timeout_us == 10000000);
    tide_config_free(&cfg);
    const char *text = "options = { setup_timeout = '5s', teardownTimeout = 2, hook_timeout = 0 }\n"
                       "function run() end";
    CHECK(build(text, &cfg, &err, NULL) == 0);
    CHECK(cfg.setup_timeout_us == 5000000 && cfg.teardown_timeout_us == 2000000);
    CHECK(cfg.hook_timeout_us == 0);
    tide_config_free(&cfg);
    char f[] = "--hook-timeout", v[] = "1500ms";
    char *extra[] = {f, v, NULL};
    text = "options = { hook_timeout = '30s' }\nfunction run() end";
    CHECK(build(text, &cfg, &err, extra) == 0);
    CHECK(cfg.hook_timeout_us == 1500000); /* the flag wins */
    tide_config_free(&cfg);
    expect_build_error("options = { setup_timeout = 'soon' }\nfunction run() end",
                       "options.setup_timeout: duration \"soon\"");
}

int main(void)
{
    if (mkdtemp(dir) == NULL)
        return 1;
    test_cli_parses_flags();
    test_cli_accepts_locust_aliases();
    test_cli_rejects_bad_input();
    test_options_default_is_one_iteration();
    test_options_reads_scenarios();
    test_cli_replaces_scenarios();
    test_options_rejects_bad_scripts();
    test_cli_duration_replaces_script_stages();
    test_options_time_limits();
    test_options_rejects_out_of_range();
    char path[300];
    snprintf(path, sizeof path, "%s/s.lua", dir);
    unlink(path);
    rmdir(dir);
    return CHECK_DONE();
}
