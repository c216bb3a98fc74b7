/* cli.c: parsing of `tide run` flags. Values point into argv. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "cli.h"
#include "dashboard.h"
#include "stream.h"
#include "duration.h"
#include "suggest.h"
#include "transport.h"

static int parse_int(const char *flag, const char *s, long min, long max, long *out,
                     struct tide_err *err)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
        return tide_err_set(err, "%s \"%s\": expected a whole number from %ld to %ld", flag, s, min,
                            max);
    *out = v;
    return 0;
}

static int parse_num(const char *flag, const char *s, double *out, struct tide_err *err)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || !(v > 0) || v > 1e9)
        return tide_err_set(err, "%s \"%s\": expected a positive number", flag, s);
    *out = v;
    return 0;
}

static int parse_dur(const char *flag, const char *s, int64_t *out, struct tide_err *err)
{
    struct tide_err e;
    if (tide_duration_parse(s, out, &e) != 0)
        return tide_err_set(err, "%s: %s", flag, e.msg);
    return 0;
}

static int parse_kv(const char *flag, char *s, struct tide_kv *kv, int *n, struct tide_err *err)
{
    char *eq = strchr(s, '=');
    if (eq == NULL || eq == s)
        return tide_err_set(err, "%s \"%s\": expected KEY=VALUE", flag, s);
    if (*n == TIDE_CLI_MAX)
        return tide_err_set(err, "%s: at most %d", flag, TIDE_CLI_MAX);
    *eq = '\0';
    kv[*n].key = s;
    kv[*n].value = eq + 1;
    (*n)++;
    return 0;
}

/* --stage 30s:50 */
static int parse_stage(char *s, struct tide_cli *cli, struct tide_err *err)
{
    char *colon = strrchr(s, ':');
    if (colon == NULL)
        return tide_err_set(err, "--stage \"%s\": expected DURATION:TARGET, e.g. 30s:50", s);
    if (cli->nstages == TIDE_CLI_MAX)
        return tide_err_set(err, "--stage: at most %d stages", TIDE_CLI_MAX);
    *colon = '\0';
    struct tide_stage *st = &cli->stages[cli->nstages];
    long target;
    if (parse_dur("--stage", s, &st->duration_us, err) != 0 ||
        parse_int("--stage target", colon + 1, 0, 10000000, &target, err) != 0) {
        *colon = ':';
        return -1;
    }
    *colon = ':';
    st->target = (double)target;
    cli->nstages++;
    return 0;
}

bool tide_cli_shapes_load(const struct tide_cli *cli)
{
    return cli->vus >= 0 || cli->duration_us >= 0 || cli->iterations >= 0 || cli->nstages > 0 ||
           cli->rate > 0 || cli->users >= 0;
}

/* Splits "--flag=value" forms; returns the value for a flag that takes one. */
static const char *value_of(int argc, char **argv, int *i, const char *inline_value)
{
    if (inline_value != NULL)
        return inline_value;
    if (*i + 1 >= argc)
        return NULL;
    return argv[++*i];
}

/* Flags without a value; false when 'flag' is not one. */
static bool parse_switch(const char *flag, struct tide_cli *cli)
{
    if (strcmp(flag, "--quiet") == 0 || strcmp(flag, "-q") == 0)
        cli->quiet = true;
    else if (strcmp(flag, "--insecure") == 0)
        cli->insecure = true;
    else if (strcmp(flag, "--http2") == 0)
        cli->http2 = true;
    else if (strcmp(flag, "--allow-read") == 0)
        cli->allow_read = true;
    else if (strcmp(flag, "--target") == 0)
        cli->target = true;
    else if (strcmp(flag, "--fail-on-saturation") == 0)
        cli->fail_on_saturation = true;
    else if (strcmp(flag, "--no-default-thresholds") == 0)
        cli->no_default_thresholds = true;
    else if (strcmp(flag, "--no-samples") == 0)
        cli->no_samples = true;
    else if (strcmp(flag, "--bundle") == 0)
        cli->bundle = true;
    else if (strcmp(flag, "--bundle-data") == 0)
        cli->bundle = cli->bundle_data = true;
    else if (strcmp(flag, "--headless") == 0 || strcmp(flag, "--autostart") == 0)
        cli->locust_flags = true;                 /* Locust's; tide always runs headless */
    else if (strcmp(flag, "--only-summary") == 0) /* Locust's: no periodic stats */
        cli->only_summary = cli->locust_flags = true;
    else
        return false;
    return true;
}

static int parse_size(const char *flag, const char *s, int64_t *out, struct tide_err *err)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    double unit = 1;
    if (*end == 'k' || *end == 'K')
        unit = 1024.0, end++;
    else if (*end == 'm' || *end == 'M')
        unit = 1024.0 * 1024, end++;
    else if (*end == 'g' || *end == 'G')
        unit = 1024.0 * 1024 * 1024, end++;
    if (unit > 1 && *end == 'i')
        end++;
    if (*end == 'B' || *end == 'b')
        end++;
    v *= unit;
    if (errno != 0 || end == s || *end != '\0' || !(v >= 1024.0 * 1024) || v > 1e15)
        return tide_err_set(err, "%s \"%s\": expected a size of at least 1MB, like 64MB", flag, s);
    *out = (int64_t)v;
    return 0;
}

bool tide_cli_takes_value(const char *flag)
{
    if (strcmp(flag, "--stream") == 0) /* stream.h */
        return true;
    static const char *const with_value[] = {"-f",
                                             "--locustfile",
                                             "--host",
                                             "--allow-hosts",
                                             "-H",
                                             "--vus",
                                             "-u",
                                             "--users",
                                             "-r",
                                             "--spawn-rate",
                                             "--duration",
                                             "-d",
                                             "-t",
                                             "--run-time",
                                             "--iterations",
                                             "-i",
                                             "--stage",
                                             "-s",
                                             "--rate",
                                             "--threads",
                                             "--out",
                                             "-o",
                                             "--threshold",
                                             "--warmup",
                                             "--tag",
                                             "--env",
                                             "-e",
                                             "--plugin",
                                             "--csv",
                                             "--html",
                                             "--hook-timeout",
                                             "--vu-memory",
                                             "--exit-code-on-error",
                                             "--sign",
                                             "--segment",
                                             "--segments",
                                             "--start-at",
                                             "--phase",
                                             "--setup-data",
                                             "--cacert",
                                             "--cert",
                                             "--key",
                                             "--transport",
                                             "--config",
                                             "--loglevel",
                                             "-L",
                                             "--stop-timeout",
                                             "-T",
                                             "--tags",
                                             NULL};
    for (int k = 0; with_value[k] != NULL; k++) {
        if (strcmp(flag, with_value[k]) == 0)
            return true;
    }
    return false;
}

static bool is(const char *flag, const char *a, const char *b)
{
    return strcmp(flag, a) == 0 || (b != NULL && strcmp(flag, b) == 0);
}

/* The load shape's flags; 1 when 'flag' is not one of them. */
static int parse_shape(const char *flag, char *v, struct tide_cli *cli, struct tide_err *err)
{
    long n = 0;
    int rc = 1;
    if (is(flag, "--vus", NULL)) {
        rc = parse_int(flag, v, 0, 10000000, &n, err);
        cli->vus = (int)n;
    } else if (is(flag, "-u", "--users")) {
        rc = parse_int(flag, v, 0, 10000000, &n, err);
        cli->users = (int)n;
    } else if (is(flag, "-r", "--spawn-rate")) {
        rc = parse_num(flag, v, &cli->spawn_rate, err);
    } else if (is(flag, "--duration", "-d") || is(flag, "-t", "--run-time")) {
        rc = parse_dur(flag, v, &cli->duration_us, err);
    } else if (is(flag, "--iterations", "-i")) {
        rc = parse_int(flag, v, 1, 1000000000000L, &n, err);
        cli->iterations = n;
    } else if (is(flag, "--stage", "-s")) {
        const struct tide_cli_given *g = tide_cli_given_of(cli, "--stage");
        if (g != NULL && g->source < cli->source)
            cli->nstages = 0; /* a higher layer's stages replace a lower one's */
        rc = parse_stage(v, cli, err);
    } else if (is(flag, "--rate", NULL)) {
        rc = parse_num(flag, v, &cli->rate, err);
    }
    return rc;
}

/* k6's "-o json=results.json" names an output, not a folder: refused rather than turned
 * into a folder named "json=results.json". A '=' after a '/' is a folder's name. */
static int check_out(const char *v, struct tide_err *err)
{
    size_t n = strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_");
    if (n > 0 && v[n] == '=')
        return tide_err_set(err,
                            "--out takes a folder; k6's -o %.*s=FILE is not supported: use "
                            "--stream json=FILE for a metrics stream (docs/streams.md)",
                            (int)n, v);
    return 0;
}

/* Flags only Locust has: under them, Locust's exit rule applies (verdict.h). */
static bool locust_only(const char *flag)
{
    static const char *const names[] = {"-f",
                                        "--locustfile",
                                        "-u",
                                        "--users",
                                        "-r",
                                        "--spawn-rate",
                                        "-t",
                                        "--run-time",
                                        "--csv",
                                        "--html",
                                        "--exit-code-on-error",
                                        "--loglevel",
                                        "-L",
                                        "--stop-timeout",
                                        "-T",
                                        "--tags",
                                        NULL};
    for (int k = 0; names[k] != NULL; k++) {
        if (strcmp(flag, names[k]) == 0)
            return true;
    }
    return false;
}

/* The flags of a test split over processes; 1 when 'flag' is not one of them. */
static int parse_distributed(const char *flag, char *v, struct tide_cli *cli, struct tide_err *err)
{
    long n = 0;
    int rc = 0;
    if (is(flag, "--segment", NULL)) {
        cli->segment = v;
    } else if (is(flag, "--segments", NULL)) {
        rc = parse_int(flag, v, 1, 10000, &n, err);
        cli->segments = (int)n;
    } else if (is(flag, "--start-at", NULL)) {
        cli->start_at = v;
    } else if (is(flag, "--phase", NULL)) {
        if (strcmp(v, "setup") != 0 && strcmp(v, "run") != 0 && strcmp(v, "teardown") != 0)
            return tide_err_set(err, "--phase \"%s\": expected setup, run or teardown", v);
        cli->phase = v;
    } else if (is(flag, "--setup-data", NULL)) {
        cli->setup_data = v;
    } else {
        return 1;
    }
    return rc;
}

static int parse_loglevel(const char *flag, const char *v, struct tide_cli *cli,
                          struct tide_err *err)
{
    static const char *const levels[] = {"DEBUG", "INFO",     "WARNING", "WARN",
                                         "ERROR", "CRITICAL", NULL};
    for (int k = 0; levels[k] != NULL; k++) {
        if (strcasecmp(v, levels[k]) == 0) {
            cli->loglevel = levels[k];
            return 0;
        }
    }
    return tide_err_set(err, "%s \"%s\": expected DEBUG, INFO, WARNING, ERROR or CRITICAL", flag,
                        v);
}

/* The flags of issue 16 (config file, Locust's CI flags); false when 'flag' is not one. */
static bool parse_layered(const char *flag, char *v, struct tide_cli *cli, struct tide_err *err,
                          int *rc)
{
    if (is(flag, "--config", NULL)) {
        cli->config = v; /* read before the layers are parsed (runconf.c) */
    } else if (is(flag, "--loglevel", "-L")) {
        *rc = parse_loglevel(flag, v, cli, err);
    } else if (is(flag, "--stop-timeout", NULL)) {
        *rc = parse_dur(flag, v, &cli->stop_timeout_us, err); /* "10": seconds, as Locust's */
    } else if (is(flag, "-T", "--tags")) {
        const struct tide_cli_given *g = tide_cli_given_of(cli, "--tags");
        if (g != NULL && g->source < cli->source)
            cli->nselect_tags = 0;
        if (cli->nselect_tags == TIDE_CLI_MAX)
            *rc = tide_err_set(err, "%s: at most %d", flag, TIDE_CLI_MAX);
        else
            cli->select_tags[cli->nselect_tags++] = v;
    } else {
        return false;
    }
    return true;
}

/* A flag with its value 'v' (writable: argv). Returns 0 or -1 with a message. */
static int parse_valued(const char *flag, char *v, struct tide_cli *cli, struct tide_err *err)
{
    int rc = parse_shape(flag, v, cli, err);
    if (rc != 1)
        return rc;
    rc = parse_distributed(flag, v, cli, err);
    if (rc != 1)
        return rc;
    rc = 0;
    long n;
    if (is(flag, "-f", "--locustfile")) {
        cli->script = v;
    } else if (is(flag, "--host", "-H")) {
        cli->host = v;
    } else if (is(flag, "--threads", NULL)) {
        rc = parse_int(flag, v, 1, 256, &n, err);
        cli->threads = (int)n;
    } else if (is(flag, "--sign", NULL)) {
        cli->sign_key = v; /* checked when the manifest is signed, and up front in run.c */
    } else if (is(flag, "--out", "-o")) {
        rc = check_out(v, err);
        cli->out = v;
    } else if (is(flag, "--threshold", NULL)) {
        if (cli->nthresholds == TIDE_CLI_MAX)
            return tide_err_set(err, "--threshold: at most %d", TIDE_CLI_MAX);
        cli->threshold_sources[cli->nthresholds] = cli->source;
        cli->thresholds[cli->nthresholds++] = v;
    } else if (is(flag, "--warmup", NULL)) {
        rc = parse_dur(flag, v, &cli->warmup_us, err);
    } else if (is(flag, "--hook-timeout", NULL)) {
        rc = parse_dur(flag, v, &cli->hook_timeout_us, err);
    } else if (is(flag, "--vu-memory", NULL)) {
        rc = parse_size(flag, v, &cli->vu_memory, err);
    } else if (is(flag, "--tag", NULL)) {
        rc = parse_kv(flag, v, cli->tags, &cli->ntags, err);
    } else if (is(flag, "--env", "-e")) {
        rc = parse_kv(flag, v, cli->env, &cli->nenv, err);
    } else if (is(flag, "--plugin", NULL)) {
        if (cli->nplugins == TIDE_CLI_MAX)
            return tide_err_set(err, "--plugin: at most %d", TIDE_CLI_MAX);
        cli->plugins[cli->nplugins++] = v;
    } else if (is(flag, "--csv", NULL)) {
        cli->csv_prefix = v;
    } else if (is(flag, "--html", NULL)) {
        cli->html_path = v;
    } else if (is(flag, "--stream", NULL)) {
        if (cli->nstreams == TIDE_CLI_MAX)
            return tide_err_set(err, "--stream: at most %d", TIDE_CLI_MAX);
        rc = tide_stream_check_spec(v, err);
        cli->streams[cli->nstreams++] = v;
    } else if (is(flag, "--allow-hosts", NULL)) {
        cli->allow_hosts = v;
    } else if (is(flag, "--cacert", NULL)) {
        cli->cacert = v;
    } else if (is(flag, "--cert", NULL)) {
        cli->cert = v;
    } else if (is(flag, "--key", NULL)) {
        cli->key = v;
    } else if (is(flag, "--transport", NULL)) {
        if (tide_transport_parse(v) < 0)
            return tide_err_set(err, "--transport: \"%s\" is not auto, native or curl", v);
        cli->transport = v;
    } else if (is(flag, "--exit-code-on-error", NULL)) {
        rc = parse_int(flag, v, 0, 255, &n, err);
        cli->exit_code_on_error = (int)n;
    } else if (parse_layered(flag, v, cli, err, &rc)) {
        /* --config and Locust's --loglevel, --stop-timeout, -T */
    } else {
        return tide_err_set(err, "unknown option %s (see 'tide help')", flag);
    }
    return rc;
}

/* An unknown flag, with the closest known one (a typo of --duration: did you mean it?).
 * The list holds every long flag the parser accepts (tests/e2e/test_cli_help.py checks). */
static const char *const long_flags[] = {"--allow-hosts",
                                         "--allow-read",
                                         "--autostart",
                                         "--bundle",
                                         "--bundle-data",
                                         "--cacert",
                                         "--cert",
                                         "--config",
                                         "--csv",
                                         "--dashboard",
                                         "--duration",
                                         "--env",
                                         "--exit-code-on-error",
                                         "--fail-on-saturation",
                                         "--headless",
                                         "--help",
                                         "--hook-timeout",
                                         "--host",
                                         "--html",
                                         "--http2",
                                         "--insecure",
                                         "--iterations",
                                         "--key",
                                         "--locustfile",
                                         "--loglevel",
                                         "--no-default-thresholds",
                                         "--no-samples",
                                         "--only-summary",
                                         "--out",
                                         "--phase",
                                         "--plugin",
                                         "--quiet",
                                         "--rate",
                                         "--run-time",
                                         "--segment",
                                         "--segments",
                                         "--setup-data",
                                         "--sign",
                                         "--spawn-rate",
                                         "--stage",
                                         "--start-at",
                                         "--stop-timeout",
                                         "--stream",
                                         "--tag",
                                         "--tags",
                                         "--target",
                                         "--threads",
                                         "--threshold",
                                         "--transport",
                                         "--users",
                                         "--vu-memory",
                                         "--vus",
                                         "--warmup",
                                         NULL};

const char *const *tide_cli_long_flags(void)
{
    return long_flags;
}

static int unknown_flag(const char *flag, struct tide_err *err)
{
    const char *near = tide_suggest(flag, long_flags);
    if (near != NULL)
        return tide_err_set(err, "unknown option %s (did you mean %s? see 'tide help')", flag,
                            near);
    return tide_err_set(err, "unknown option %s (see 'tide help')", flag);
}

const char *tide_source_name(enum tide_source s)
{
    static const char *const names[] = {"default", "script", "config", "env", "cli"};
    return names[s];
}

const char *tide_cli_long_name(const char *flag)
{
    static const char *const aliases[][2] = {
        {"-f", "--locustfile"}, {"-H", "--host"},     {"-u", "--users"},
        {"-r", "--spawn-rate"}, {"-t", "--run-time"}, {"-d", "--duration"},
        {"-i", "--iterations"}, {"-s", "--stage"},    {"-o", "--out"},
        {"-e", "--env"},        {"-q", "--quiet"},    {"-T", "--tags"},
        {"-L", "--loglevel"}};
    for (size_t k = 0; k < sizeof aliases / sizeof aliases[0]; k++) {
        if (strcmp(flag, aliases[k][0]) == 0)
            return aliases[k][1];
    }
    for (int k = 0; long_flags[k] != NULL; k++) {
        if (strcmp(flag, long_flags[k]) == 0)
            return long_flags[k];
    }
    return strcmp(flag, "script") == 0 ? "script" : NULL;
}

const struct tide_cli_given *tide_cli_given_of(const struct tide_cli *cli, const char *flag)
{
    for (int i = 0; i < cli->ngiven; i++) {
        if (strcmp(cli->given[i].flag, flag) == 0)
            return &cli->given[i];
    }
    return NULL;
}

/* Notes that the current layer set 'flag' (to 'value'; NULL for a switch). */
static void note_given(struct tide_cli *cli, const char *flag, const char *value)
{
    const char *name = tide_cli_long_name(flag);
    if (name == NULL)
        return;
    struct tide_cli_given *g = (struct tide_cli_given *)tide_cli_given_of(cli, name);
    if (g == NULL) {
        if (cli->ngiven == (int)(sizeof cli->given / sizeof cli->given[0]))
            return;
        g = &cli->given[cli->ngiven++];
    }
    *g = (struct tide_cli_given){name, value, cli->source};
}

void tide_cli_init(struct tide_cli *cli)
{
    memset(cli, 0, sizeof *cli);
    cli->vus = -1;
    cli->duration_us = -1;
    cli->iterations = -1;
    cli->rate = -1;
    cli->warmup_us = -1;
    cli->hook_timeout_us = -1;
    cli->users = -1;
    cli->spawn_rate = -1;
    cli->exit_code_on_error = -1;
    cli->stop_timeout_us = -1;
    cli->source = TIDE_SRC_CLI;
}

void tide_cli_free(struct tide_cli *cli)
{
    for (int i = 0; i < cli->nowned; i++)
        free(cli->owned[i]);
    free(cli->owned);
    cli->owned = NULL;
    cli->nowned = 0;
}

/* The positional SCRIPT: one per layer; a higher layer's replaces a lower one's. */
static int take_script(struct tide_cli *cli, char *arg, struct tide_err *err)
{
    const struct tide_cli_given *g = tide_cli_given_of(cli, "script");
    if (cli->script != NULL && g != NULL && g->source == cli->source)
        return tide_err_set(err, "unexpected argument \"%s\" (one script per run)", arg);
    cli->script = arg;
    note_given(cli, "script", arg);
    return 0;
}

static int parse_dashboard(int argc, char **argv, int *i, const char *inline_value,
                           struct tide_cli *cli, struct tide_err *err)
{
    if (inline_value != NULL)
        cli->dashboard = inline_value;
    else if (*i + 1 < argc && tide_dashboard_is_addr(argv[*i + 1]))
        cli->dashboard = argv[++*i];
    else
        cli->dashboard = TIDE_DASHBOARD_DEFAULT;
    note_given(cli, "--dashboard", cli->dashboard);
    return tide_dashboard_check_addr(cli->dashboard, err);
}

int tide_cli_parse_layer(int argc, char **argv, enum tide_source source, struct tide_cli *cli,
                         struct tide_err *err)
{
    cli->source = source;
    for (int i = 0; i < argc; i++) {
        char *arg = argv[i];
        if (arg[0] != '-' || arg[1] == '\0') {
            if (take_script(cli, arg, err) != 0)
                return -1;
            continue;
        }
        char flag[64];
        const char *inline_value = NULL;
        char *eq = strchr(arg, '=');
        if (arg[1] == '-' && eq != NULL) {
            snprintf(flag, sizeof flag, "%.*s", (int)(eq - arg), arg);
            inline_value = eq + 1;
        } else {
            snprintf(flag, sizeof flag, "%s", arg);
        }
        if (strcmp(flag, "--dashboard") == 0) { /* its address is optional (dashboard.h) */
            if (parse_dashboard(argc, argv, &i, inline_value, cli, err) != 0)
                return -1;
            continue;
        }
        if (parse_switch(flag, cli)) {
            note_given(cli, flag, NULL);
            continue;
        }
        if (!tide_cli_takes_value(flag))
            return unknown_flag(flag, err);
        const char *v = value_of(argc, argv, &i, inline_value);
        if (v == NULL)
            return tide_err_set(err, "%s needs a value (see 'tide help')", flag);
        cli->locust_flags = cli->locust_flags || locust_only(flag);
        if (parse_valued(flag, (char *)v, cli, err) != 0) /* argv is writable */
            return -1;
        note_given(cli, flag, v);
    }
    return 0;
}

int tide_cli_finish(struct tide_cli *cli, struct tide_err *err)
{
    if (cli->script == NULL)
        return tide_err_set(err, "no script given (usage: tide run SCRIPT [options])");
    size_t len = strlen(cli->script);
    if (len >= 3 && strcmp(cli->script + len - 3, ".py") == 0)
        return tide_err_set(err,
                            "%s is Python: tide scenarios are Lua; translate it once with "
                            "'tide init --from-locust %s' (docs/from-locust.md); Locust's flags "
                            "work as they are",
                            cli->script, cli->script);
    if (cli->spawn_rate > 0 && cli->users < 0)
        return tide_err_set(err, "-r/--spawn-rate needs -u/--users");
    if (cli->phase != NULL && strcmp(cli->phase, "teardown") == 0 && cli->setup_data == NULL)
        return tide_err_set(err, "--phase teardown needs --setup-data FILE (written by --phase "
                                 "setup)");
    return 0;
}

int tide_cli_parse_run(int argc, char **argv, struct tide_cli *cli, struct tide_err *err)
{
    tide_cli_init(cli);
    if (tide_cli_parse_layer(argc, argv, TIDE_SRC_CLI, cli, err) != 0)
        return -1;
    return tide_cli_finish(cli, err);
}
