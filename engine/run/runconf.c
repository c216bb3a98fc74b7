/* runconf.c: config file < environment < command line, all spoken as cli.c's flags. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "config_file.h"
#include "fsutil.h"
#include "runconf.h"
#include "suggest.h"

#define CONFIG_MAX_BYTES (1024 * 1024)

/* Locust's own keys (locust.conf, LOCUST_*), all of them tide flags too. */
static const char *const locust_keys[] = {
    "locustfile", "headless",     "users", "spawn-rate",         "run-time",
    "host",       "csv",          "html",  "exit-code-on-error", "only-summary",
    "loglevel",   "stop-timeout", "tags",  "autostart",          NULL};

/* Flags whose values add up (or, for --stage and -T, form one list) over repeats. */
static bool repeatable(const char *flag)
{
    static const char *const names[] = {"--stage",  "--threshold", "--tag",  "--env",
                                        "--plugin", "--stream",    "--tags", NULL};
    for (int k = 0; names[k] != NULL; k++) {
        if (strcmp(flag, names[k]) == 0)
            return true;
    }
    return false;
}

static bool is_locust_key(const char *key);

/* "PREFIX" + the key in capitals, '-' as '_'. */
static void var_name(const char *prefix, const char *key, char *out, size_t len)
{
    size_t n = (size_t)snprintf(out, len, "%s", prefix);
    for (const char *p = key; *p != '\0' && n + 1 < len; p++)
        out[n++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
    out[n < len ? n : len - 1] = '\0';
}

/* Locust's flags keep Locust's names (LOCUST_USERS: TIDE_USERS is a scenario's variable in
 * scenarios/login.lua); --host, shared, has both. */
void tide_runconf_env_name(const char *flag, char *out, size_t len)
{
    const char *key = strcmp(flag, "script") == 0 ? "locustfile" : flag + 2;
    bool locust = is_locust_key(key) && strcmp(key, "host") != 0;
    var_name(locust ? "LOCUST_" : "TIDE_", key, out, len);
}

static char *own(struct tide_cli *cli, const char *s)
{
    char **g = realloc(cli->owned, (size_t)(cli->nowned + 1) * sizeof *g);
    char *copy = strdup(s);
    if (g == NULL || copy == NULL) {
        if (g != NULL)
            cli->owned = g;
        free(copy);
        return NULL;
    }
    cli->owned = g;
    g[cli->nowned++] = copy;
    return copy;
}

/* 1 for true, 0 for false, -1 for neither. */
static int truth(const char *v)
{
    static const char *const yes[] = {"true", "yes", "on", "1", NULL};
    static const char *const no[] = {"false", "no", "off", "0", "", NULL};
    for (int k = 0; yes[k] != NULL; k++) {
        if (strcasecmp(v, yes[k]) == 0)
            return 1;
    }
    for (int k = 0; no[k] != NULL; k++) {
        if (strcasecmp(v, no[k]) == 0)
            return 0;
    }
    return -1;
}

/* One setting of a layer: flag (long name, or "script") with its value(s), parsed at once.
 * 'where' prefixes an error: "tide.toml:3", "TIDE_VUS". */
static int apply_one(struct tide_cli *cli, enum tide_source src, const char *flag,
                     const char *const *values, int n, const char *where, struct tide_err *err)
{
    struct tide_err e = {{0}};
    int rc = 0;
    bool is_switch = strcmp(flag, "script") != 0 && !tide_cli_takes_value(flag);
    if (n > 1 && !repeatable(flag))
        return tide_err_set(err, "%s: %s takes one value", where, flag);
    for (int i = 0; i < n && rc == 0; i++) {
        char *argv[2];
        int argc = 0;
        if (is_switch) {
            int t = truth(values[i]);
            if (t < 0)
                return tide_err_set(err, "%s: %s \"%s\": expected true or false", where, flag,
                                    values[i]);
            if (t == 0)
                continue;
            argv[argc++] = own(cli, flag);
        } else if (strcmp(flag, "script") == 0) {
            argv[argc++] = own(cli, values[i]);
        } else if (strcmp(flag, "--dashboard") == 0) {
            char buf[512];
            int t = truth(values[i]);
            snprintf(buf, sizeof buf, "--dashboard=%s", values[i]);
            if (t == 0)
                continue;
            argv[argc++] = own(cli, t == 1 ? "--dashboard" : buf);
        } else {
            argv[argc++] = own(cli, flag);
            argv[argc++] = own(cli, values[i]);
        }
        if (argv[0] == NULL || (argc == 2 && argv[1] == NULL))
            return tide_err_set(err, "out of memory");
        rc = tide_cli_parse_layer(argc, argv, src, cli, &e);
    }
    if (rc != 0)
        return tide_err_set(err, "%s: %s", where, e.msg);
    return 0;
}

static bool is_locust_key(const char *key)
{
    for (int k = 0; locust_keys[k] != NULL; k++) {
        if (strcmp(key, locust_keys[k]) == 0)
            return true;
    }
    return false;
}

/* A config key -> its flag ("spawn_rate" and "spawn-rate" -> "--spawn-rate"); NULL: none. */
static const char *key_flag(const char *key, char *buf, size_t len)
{
    if (strcmp(key, "script") == 0 || strcmp(key, "locustfile") == 0)
        return "script";
    snprintf(buf, len, "--%s", key);
    for (char *p = buf + 2; *p != '\0'; p++)
        *p = *p == '_' ? '-' : *p;
    if (strcmp(buf, "--config") == 0 || strcmp(buf, "--help") == 0)
        return NULL;
    return tide_cli_long_name(buf) == NULL ? NULL : tide_cli_long_name(buf);
}

static int unknown_key(const char *path, const struct tide_conf_entry *e, bool locust,
                       struct tide_cli *cli, struct tide_err *err)
{
    if (locust) { /* Locust has many keys tide has no use for: noted in the plan */
        char note[256];
        snprintf(note, sizeof note, "%s:%d: Locust's key \"%s\" is not supported by tide (ignored)",
                 path, e->line, e->key);
        if (cli->nnotes < TIDE_CLI_MAX && (cli->notes[cli->nnotes] = own(cli, note)) != NULL)
            cli->nnotes++;
        return 0;
    }
    char dashed[128];
    snprintf(dashed, sizeof dashed, "--%s", e->key);
    const char *near = tide_suggest(dashed, tide_cli_long_flags());
    if (near != NULL)
        return tide_err_set(err, "%s:%d: unknown key \"%s\" (did you mean %s?)", path, e->line,
                            e->key, near + 2);
    return tide_err_set(err,
                        "%s:%d: unknown key \"%s\" (keys are tide run's long flags, see "
                        "docs/cli.md#configuration)",
                        path, e->line, e->key);
}

static int config_layer(const char *path, struct tide_cli *cli, struct tide_err *err)
{
    size_t len = 0;
    char *text = tide_fs_read_all(path, &len, NULL);
    if (text == NULL)
        return tide_err_set(err, "--config %s: %s", path, strerror(errno));
    if (len > CONFIG_MAX_BYTES) {
        free(text);
        return tide_err_set(err, "--config %s: larger than 1 MB", path);
    }
    size_t plen = strlen(path);
    bool toml = plen >= 5 && strcmp(path + plen - 5, ".toml") == 0;
    struct tide_conf conf;
    struct tide_err e = {{0}};
    int rc = tide_conf_parse(text, len, toml ? TIDE_CONF_TOML : TIDE_CONF_LOCUST, &conf, &e);
    free(text);
    if (rc != 0)
        return tide_err_set(err, "%s: %s", path, e.msg);
    for (int i = 0; i < conf.n && rc == 0; i++) {
        const struct tide_conf_entry *en = &conf.entries[i];
        char buf[128], where[300];
        snprintf(where, sizeof where, "%s:%d", path, en->line);
        if (toml && en->section[0] != '\0' && strcmp(en->section, "run") != 0) {
            rc = tide_err_set(err,
                              "%s: unknown section [%s] (run settings go at the top or in "
                              "[run])",
                              where, en->section);
            break;
        }
        const char *flag = key_flag(en->key, buf, sizeof buf);
        if (flag == NULL) {
            rc = unknown_key(path, en, !toml && !is_locust_key(en->key), cli, err);
            continue;
        }
        if (toml && en->kind == TIDE_CONF_BOOL && tide_cli_takes_value(flag) &&
            strcmp(flag, "--dashboard") != 0) {
            rc = tide_err_set(err, "%s: %s needs a value, not %s", where, en->key, en->values[0]);
            break;
        }
        rc = apply_one(cli, TIDE_SRC_CONFIG, flag, (const char *const *)en->values, en->nvalues,
                       where, err);
    }
    tide_conf_free(&conf);
    return rc;
}

/* One variable: a list flag takes one value per line. */
static int env_one(struct tide_cli *cli, const char *name, const char *flag, struct tide_err *err)
{
    const char *v = getenv(name);
    if (v == NULL || v[0] == '\0')
        return 0;
    if (!repeatable(flag))
        return apply_one(cli, TIDE_SRC_ENV, flag, &v, 1, name, err);
    char *copy = strdup(v);
    if (copy == NULL)
        return tide_err_set(err, "out of memory");
    const char *items[TIDE_CLI_MAX];
    int n = 0;
    for (char *save = NULL, *line = strtok_r(copy, "\n", &save); line != NULL && n < TIDE_CLI_MAX;
         line = strtok_r(NULL, "\n", &save))
        items[n++] = line;
    int rc = apply_one(cli, TIDE_SRC_ENV, flag, items, n, name, err);
    free(copy);
    return rc;
}

static int env_layer(struct tide_cli *cli, struct tide_err *err)
{
    char name[96];
    for (const char *const *f = tide_cli_long_flags(); *f != NULL; f++) {
        if (strcmp(*f, "--help") == 0 || strcmp(*f, "--config") == 0)
            continue;
        const char *target = strcmp(*f, "--locustfile") == 0 ? "script" : *f;
        if (strcmp(*f, "--host") == 0) { /* LOCUST_HOST, then TIDE_HOST wins */
            var_name("LOCUST_", "host", name, sizeof name);
            if (env_one(cli, name, target, err) != 0)
                return -1;
        }
        tide_runconf_env_name(*f, name, sizeof name);
        if (env_one(cli, name, target, err) != 0)
            return -1;
    }
    return 0;
}

/* --config FILE on the command line, TIDE_CONFIG or LOCUST_CONFIG, or ./tide.toml. */
static const char *find_config(int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "--config=", 9) == 0)
            return argv[i] + 9;
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            return argv[i + 1];
    }
    const char *env = getenv("TIDE_CONFIG");
    if (env == NULL || env[0] == '\0')
        env = getenv("LOCUST_CONFIG");
    if (env != NULL && env[0] != '\0')
        return env;
    return access("tide.toml", F_OK) == 0 ? "tide.toml" : NULL;
}

int tide_runconf_parse(int argc, char **argv, struct tide_cli *cli, struct tide_err *err)
{
    tide_cli_init(cli);
    const char *config = find_config(argc, argv);
    if (config != NULL) {
        if (config_layer(config, cli, err) != 0)
            return -1;
        cli->config = own(cli, config);
    }
    if (env_layer(cli, err) != 0 || tide_cli_parse_layer(argc, argv, TIDE_SRC_CLI, cli, err) != 0)
        return -1;
    if (config != NULL)
        cli->config = config; /* the file read, whatever the layers said */
    return tide_cli_finish(cli, err);
}

/* --- applied to the built config --- */

static bool name_listed(const struct tide_cli *cli, const char *name)
{
    for (int i = 0; i < cli->nselect_tags; i++) {
        const char *p = cli->select_tags[i];
        size_t n = strlen(name);
        while (*p != '\0') {
            size_t len = strcspn(p, ", \t");
            if (len == n && strncmp(p, name, n) == 0)
                return true;
            p += len;
            p += strspn(p, ", \t");
        }
    }
    return false;
}

static bool selected(const struct tide_cli *cli, const struct tide_scenario *s)
{
    for (int i = 0; i < s->ntags; i++) {
        if (name_listed(cli, s->tags[i].key) || name_listed(cli, s->tags[i].value))
            return true;
    }
    return false;
}

static void free_scenario(struct tide_scenario *s)
{
    free(s->name);
    free(s->exec);
    free(s->stages);
    for (int i = 0; i < s->ntags; i++) {
        free(s->tags[i].key);
        free(s->tags[i].value);
    }
    free(s->tags);
}

static int select_tagged(const struct tide_cli *cli, struct tide_config *cfg, struct tide_err *err)
{
    int kept = 0;
    for (int i = 0; i < cfg->nscenarios; i++) {
        if (selected(cli, &cfg->scenarios[i]))
            kept++;
    }
    if (kept == 0) {
        char names[512] = "";
        for (int i = 0; i < cfg->nscenarios; i++)
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "",
                     cfg->scenarios[i].name);
        return tide_err_set(err,
                            "-T/--tags %s: no scenario has one of these tags (scenarios: %s; "
                            "tag them in options.scenarios.NAME.tags)",
                            cli->select_tags[0], names);
    }
    kept = 0;
    for (int i = 0; i < cfg->nscenarios; i++) {
        if (selected(cli, &cfg->scenarios[i]))
            cfg->scenarios[kept++] = cfg->scenarios[i];
        else
            free_scenario(&cfg->scenarios[i]);
    }
    cfg->nscenarios = kept;
    return 0;
}

int tide_runconf_apply(const struct tide_cli *cli, struct tide_config *cfg, struct tide_err *err)
{
    if (cli->nselect_tags > 0 && select_tagged(cli, cfg, err) != 0)
        return -1;
    for (int i = 0; cli->stop_timeout_us >= 0 && i < cfg->nscenarios; i++) {
        cfg->scenarios[i].graceful_stop_us = cli->stop_timeout_us;
        cfg->scenarios[i].graceful_ramp_down_us = cli->stop_timeout_us;
    }
    return 0;
}
