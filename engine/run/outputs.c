/* outputs.c: the run folder and the files in it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "audit.h"
#include "provenance.h"
#include "bundle.h"
#include "clock.h"
#include "fsutil.h"
#include "log.h"
#include "errsamples.h"
#include "outputs.h"
#include "plugins.h"
#include "report.h"

/* The folder of 'path' exists and is writable; 'what' names the flag in the message. */
static int check_parent(const char *what, const char *path, struct tide_err *err)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == NULL)
        snprintf(dir, sizeof dir, ".");
    else if (slash == dir)
        slash[1] = '\0'; /* "/file": the root */
    else
        *slash = '\0';
    struct tide_err e = {{0}};
    if (tide_fs_mkdirs(dir, &e) != 0)
        return tide_err_set(err, "%s %s: %s", what, path, e.msg);
    if (access(dir, W_OK) != 0)
        return tide_err_set(err, "%s %s: cannot write in '%s': %s", what, path, dir,
                            strerror(errno));
    return 0;
}

int tide_outputs_check_extra(const struct tide_config *cfg, struct tide_err *err)
{
    if (cfg->csv_prefix != NULL && check_parent("--csv", cfg->csv_prefix, err) != 0)
        return -1;
    if (cfg->html_path != NULL && check_parent("--html", cfg->html_path, err) != 0)
        return -1;
    return 0;
}

int tide_outputs_make_dir(const struct tide_config *cfg, int64_t start_wall_us, char *dir,
                          size_t dirlen, char *id, size_t idlen, struct tide_err *err)
{
    char stamp[32];
    time_t now = (time_t)(start_wall_us / 1000000);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    snprintf(id, idlen, "%s-%s", stamp, cfg->script_name);
    if (cfg->out_dir != NULL) {
        snprintf(dir, dirlen, "%s", cfg->out_dir);
        return tide_fs_mkdirs(dir, err);
    }
    if (tide_fs_mkdirs("report", err) != 0)
        return -1;
    for (int n = 1; n < 100; n++) {
        if (n == 1)
            snprintf(dir, dirlen, "report/%s", id);
        else
            snprintf(dir, dirlen, "report/%s-%d", id, n);
        if (mkdir(dir, 0755) == 0) {
            snprintf(id, idlen, "%s", dir + strlen("report/"));
            return 0;
        }
        if (errno != EEXIST)
            return tide_err_set(err, "cannot create %s: %s", dir, strerror(errno));
    }
    return tide_err_set(err, "cannot create a run folder under report/");
}

void tide_outputs_point_latest(const struct tide_config *cfg, const char *id)
{
    if (cfg->out_dir != NULL)
        return;
    char tmp[512];
    snprintf(tmp, sizeof tmp, "report/.latest.%d", (int)getpid());
    unlink(tmp);
    if (symlink(id, tmp) == 0 && rename(tmp, "report/latest") != 0)
        unlink(tmp);
}

static cJSON *scenario_json(const struct tide_scenario *s)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "name", s->name);
    cJSON_AddStringToObject(j, "executor", tide_executor_name(s->executor));
    cJSON_AddStringToObject(j, "exec", s->exec);
    cJSON_AddNumberToObject(j, "start_time_s", (double)s->start_time_us / 1e6);
    switch (s->executor) {
    case TIDE_EXEC_CONSTANT_VUS:
        cJSON_AddNumberToObject(j, "vus", s->vus);
        cJSON_AddNumberToObject(j, "duration_s", (double)s->duration_us / 1e6);
        break;
    case TIDE_EXEC_PER_VU_ITERATIONS:
    case TIDE_EXEC_SHARED_ITERATIONS:
        cJSON_AddNumberToObject(j, "vus", s->vus);
        cJSON_AddNumberToObject(j, "iterations", (double)s->iterations);
        break;
    case TIDE_EXEC_CONSTANT_ARRIVAL_RATE:
        cJSON_AddNumberToObject(j, "rate", s->rate);
        cJSON_AddNumberToObject(j, "time_unit_s", (double)s->time_unit_us / 1e6);
        cJSON_AddNumberToObject(j, "duration_s", (double)s->duration_us / 1e6);
        cJSON_AddNumberToObject(j, "pre_allocated_vus", s->pre_allocated_vus);
        cJSON_AddNumberToObject(j, "max_vus", s->max_vus);
        break;
    default: {
        cJSON *st = cJSON_AddArrayToObject(j, "stages");
        for (int k = 0; k < s->nstages; k++) {
            cJSON *x = cJSON_CreateObject();
            cJSON_AddNumberToObject(x, "duration_s", (double)s->stages[k].duration_us / 1e6);
            cJSON_AddNumberToObject(x, "target", s->stages[k].target);
            cJSON_AddItemToArray(st, x);
        }
    }
    }
    return j;
}

cJSON *tide_outputs_options_json(const struct tide_config *c)
{
    cJSON *o = cJSON_CreateObject();
    if (c->host != NULL)
        cJSON_AddStringToObject(o, "host", c->host);
    cJSON_AddNumberToObject(o, "threads", c->threads);
    cJSON_AddNumberToObject(o, "warmup_s", (double)c->warmup_us / 1e6);
    cJSON_AddBoolToObject(o, "insecure", c->insecure);
    cJSON *sc = cJSON_AddArrayToObject(o, "scenarios");
    for (int i = 0; i < c->nscenarios; i++)
        cJSON_AddItemToArray(sc, scenario_json(&c->scenarios[i]));
    cJSON *env = cJSON_AddObjectToObject(o, "env");
    for (int i = 0; i < c->nenv; i++)
        cJSON_AddStringToObject(env, c->env[i].key, "***"); /* values are secrets */
    cJSON *tags = cJSON_AddObjectToObject(o, "tags");
    for (int i = 0; i < c->ntags; i++)
        cJSON_AddStringToObject(tags, c->tags[i].key, c->tags[i].value);
    return o;
}

/* Locust's --csv PREFIX and --html FILE, besides the run folder. */
static int locust_outputs(const struct tide_config *cfg, const cJSON *summary, struct tide_err *err)
{
    if (cfg->csv_prefix != NULL) {
        char a[4200], b[4200], c[4200];
        snprintf(a, sizeof a, "%s_stats.csv", cfg->csv_prefix);
        snprintf(b, sizeof b, "%s_stats_history.csv", cfg->csv_prefix);
        snprintf(c, sizeof c, "%s_failures.csv", cfg->csv_prefix);
        if (tide_report_csv(summary, a, b, c, err) != 0)
            return -1;
        snprintf(a, sizeof a, "%s_exceptions.csv", cfg->csv_prefix); /* script errors */
        if (tide_report_exceptions_csv(summary, a, err) != 0)
            return -1;
    }
    if (cfg->html_path != NULL && tide_report_html(summary, cfg->html_path, err) != 0)
        return -1;
    return 0;
}

int tide_outputs_write(const struct tide_config *cfg, const char *dir, cJSON *summary, cJSON **doc)
{
    struct tide_err err = {{0}};
    /* summary first: the source of every other file */
    tide_redact_json(summary);
    char *clean = cJSON_Print(summary);
    char path[4200];
    snprintf(path, sizeof path, "%s/summary.json", dir);
    int rc = 0;
    if (clean == NULL || tide_fs_write_atomic(path, clean, strlen(clean), &err) != 0) {
        tide_log(TIDE_LOG_ERROR, "%s", clean ? err.msg : "out of memory");
        rc = -1;
    }
    cJSON *samples = tide_errsamples_json(); /* error_samples.json: what servers said */
    if (samples != NULL) {
        tide_redact_json(samples);
        char *text = cJSON_Print(samples);
        snprintf(path, sizeof path, "%s/error_samples.json", dir);
        if (text == NULL || tide_fs_write_atomic(path, text, strlen(text), &err) != 0)
            tide_log(TIDE_LOG_ERROR, "%s", text ? err.msg : "out of memory");
        free(text);
        cJSON_Delete(samples);
    }
    /* the renderers read the redacted document, like `tide report` will */
    *doc = clean != NULL ? cJSON_Parse(clean) : NULL;
    free(clean);
    if (rc == 0 && *doc != NULL &&
        (tide_report_write_all(*doc, dir, &err) != 0 || locust_outputs(cfg, *doc, &err) != 0)) {
        tide_log(TIDE_LOG_ERROR, "%s", err.msg);
        rc = -1;
    }
    return rc;
}

/* One handle_summary() file: 'name' relative to 'dir' unless absolute; parents created. */
static void write_returned_file(const char *dir, const char *name, const char *content)
{
    char path[8192];
    if (name[0] == '/')
        snprintf(path, sizeof path, "%s", name);
    else
        snprintf(path, sizeof path, "%s/%s", dir, name);
    struct tide_err err = {{0}};
    char parent[8192];
    snprintf(parent, sizeof parent, "%s", path);
    char *slash = strrchr(parent, '/');
    if (slash != NULL && slash != parent) {
        *slash = '\0';
        tide_fs_mkdirs(parent, &err);
    }
    char *text = tide_redact(content); /* the script's text may quote a secret */
    if (text == NULL || tide_fs_write_atomic(path, text, strlen(text), &err) != 0)
        tide_log(TIDE_LOG_ERROR, "handle_summary: %s", text ? err.msg : "out of memory");
    free(text);
}

void tide_outputs_handle_summary(const char *dir, const cJSON *files)
{
    const cJSON *f;
    cJSON_ArrayForEach(f, files)
    {
        if (!cJSON_IsString(f)) {
            tide_log(TIDE_LOG_WARN, "handle_summary: value of \"%s\" is not a string; skipped",
                     f->string);
            continue;
        }
        if (strcmp(f->string, "stdout") == 0 || strcmp(f->string, "stderr") == 0) {
            char *text = tide_redact(f->valuestring); /* as every other output */
            fputs(text != NULL ? text : "", f->string[3] == 'o' ? stdout : stderr);
            free(text);
            continue;
        }
        if (strstr(f->string, "..") != NULL) {
            tide_log(TIDE_LOG_WARN, "handle_summary: \"%s\": '..' is not allowed; skipped",
                     f->string);
            continue;
        }
        write_returned_file(dir, f->string, f->valuestring);
    }
}

/* The manifest's "plugins": each loaded plugin package with its version and sha256. */
static void manifest_plugins(const struct tide_config *cfg, cJSON *facts)
{
    cJSON_AddItemToObject(facts, "plugins", tide_plugins_json(cfg));
}

int tide_outputs_manifest(const struct tide_config *cfg, const char *dir, int64_t start_wall_us,
                          int64_t end_wall_us, int exit_code, struct tide_err *err)
{
    char ts[40], sha[65];
    tide_sha256_hex(cfg->script_source, cfg->script_len, sha);
    cJSON *facts = cJSON_CreateObject();
    cJSON_AddStringToObject(facts, "tool", "tide");
    cJSON_AddStringToObject(facts, "version", TIDE_VERSION);
    cJSON_AddStringToObject(facts, "git", TIDE_GIT);
    cJSON_AddStringToObject(facts, "scenario_file", cfg->script_path);
    cJSON_AddStringToObject(facts, "scenario_sha256", sha);
    cJSON_AddStringToObject(facts, "host", cfg->host != NULL ? cfg->host : "");
    cJSON_AddItemToObject(facts, "options", tide_outputs_options_json(cfg));
    tide_wall_format(start_wall_us, ts, sizeof ts);
    cJSON_AddStringToObject(facts, "start", ts);
    tide_wall_format(end_wall_us, ts, sizeof ts);
    cJSON_AddStringToObject(facts, "end", ts);
    cJSON_AddNumberToObject(facts, "exit_code", exit_code);
    manifest_plugins(cfg, facts);
    tide_provenance_add(facts, cfg); /* who, with what, against what */
    if (cfg->bundle && tide_bundle_write(cfg, dir, facts, err) != 0) {
        cJSON_Delete(facts);
        return -1;
    }
    return tide_manifest_write(dir, facts, err);
}
