/* ledger.c: the hash-chained access ledger (see ledger.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "audit.h"
#include "clock.h"
#include "fsutil.h"
#include "jsonl_chain.h"
#include "ledger.h"
#include "log.h"
#include "operator.h"

#define LEDGER_NAME ".ledger.jsonl"
#define LEDGER_MAX  ((off_t)256 << 20) /* read whole when checked */

static void ledger_path(const char *runs_dir, char *path, size_t len)
{
    snprintf(path, len, "%s/%s", runs_dir, LEDGER_NAME);
}

/* The sha256 of the last line of the open ledger 'fd' and its seq, or 64 zeros and 0. */
static void last_record(int fd, char prev[65], long *seq)
{
    memset(prev, '0', 64);
    prev[64] = '\0';
    *seq = 0;
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size == 0 || st.st_size > LEDGER_MAX)
        return;
    /* the last line is at most a few KiB: read the tail */
    off_t want = st.st_size < 65536 ? st.st_size : 65536;
    char *buf = malloc((size_t)want + 1);
    if (buf == NULL)
        return;
    ssize_t got = pread(fd, buf, (size_t)want, st.st_size - want);
    if (got <= 0) {
        free(buf);
        return;
    }
    buf[got] = '\0';
    while (got > 0 && buf[got - 1] == '\n')
        buf[--got] = '\0';
    char *line = strrchr(buf, '\n');
    line = line != NULL ? line + 1 : buf;
    tide_sha256_hex(line, strlen(line), prev);
    cJSON *j = cJSON_Parse(line);
    const cJSON *s = cJSON_GetObjectItem(j, "seq");
    if (cJSON_IsNumber(s))
        *seq = (long)s->valuedouble;
    cJSON_Delete(j);
    free(buf);
}

int tide_ledger_append_json(const char *runs_dir, const char *command, const char *run_id,
                            const char *result, cJSON *extra, struct tide_err *err)
{
    char path[4200];
    ledger_path(runs_dir, path, sizeof path);
    int fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
    if (fd < 0) {
        cJSON_Delete(extra);
        return tide_err_set(err, "cannot open the ledger %s: %s", path, strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        cJSON_Delete(extra);
        return tide_err_set(err, "%s: not a regular file (refused)", path);
    }
    flock(fd, LOCK_EX);
    char prev[65], ts[40];
    long seq;
    last_record(fd, prev, &seq);
    tide_wall_format(tide_wall_us(), ts, sizeof ts);
    cJSON *r = cJSON_CreateObject();
    cJSON_AddNumberToObject(r, "seq", (double)(seq + 1));
    cJSON_AddStringToObject(r, "time", ts);
    cJSON_AddItemToObject(r, "operator", tide_operator_json());
    cJSON_AddStringToObject(r, "command", command);
    cJSON_AddStringToObject(r, "run", run_id != NULL ? run_id : "");
    cJSON_AddStringToObject(r, "result", result);
    for (cJSON *f = extra != NULL ? extra->child : NULL; f != NULL;) {
        cJSON *next = f->next;
        cJSON_DetachItemViaPointer(extra, f);
        cJSON_AddItemToObject(r, f->string, f);
        f = next;
    }
    cJSON_Delete(extra);
    cJSON_AddStringToObject(r, "prev", prev);
    tide_redact_json(r);
    char *line = cJSON_PrintUnformatted(r);
    cJSON_Delete(r);
    int rc = 0;
    if (line == NULL) {
        rc = tide_err_set(err, "out of memory");
    } else {
        size_t n = strlen(line);
        line[n] = '\n'; /* replaced NUL: written with its length */
        if (write(fd, line, n + 1) != (ssize_t)(n + 1) || fsync(fd) != 0)
            rc = tide_err_set(err, "cannot write the ledger %s: %s", path, strerror(errno));
        free(line);
    }
    flock(fd, LOCK_UN);
    close(fd);
    return rc;
}

int tide_ledger_append(const char *runs_dir, const char *command, const char *run_id,
                       const char *result, struct tide_err *err)
{
    return tide_ledger_append_json(runs_dir, command, run_id, result, NULL, err);
}

void tide_ledger_locate(const char *run_dir, char *runs_dir, size_t runs_len, char *run_id,
                        size_t id_len)
{
    char d[4096];
    if (realpath(run_dir, d) == NULL) /* report/latest names its target's run */
        snprintf(d, sizeof d, "%s", run_dir);
    size_t n = strlen(d);
    while (n > 1 && d[n - 1] == '/')
        d[--n] = '\0';
    char *slash = strrchr(d, '/');
    if (slash == NULL) {
        snprintf(runs_dir, runs_len, ".");
        snprintf(run_id, id_len, "%s", d);
    } else {
        snprintf(run_id, id_len, "%s", slash + 1);
        if (slash == d)
            snprintf(runs_dir, runs_len, "/");
        else
            snprintf(runs_dir, runs_len, "%.*s", (int)(slash - d), d);
    }
}

void tide_ledger_note(const char *run_dir, const char *command, int exit_code)
{
    char m[4200], runs[4096], id[1024], result[64];
    struct stat st;
    snprintf(m, sizeof m, "%s/manifest.json", run_dir);
    if (lstat(m, &st) != 0 || !S_ISREG(st.st_mode))
        return; /* not a stored run */
    tide_ledger_locate(run_dir, runs, sizeof runs, id, sizeof id);
    if (exit_code == 0)
        snprintf(result, sizeof result, "ok");
    else
        snprintf(result, sizeof result, "failed (exit %d)", exit_code);
    struct tide_err err = {{0}};
    if (tide_ledger_append(runs, command, id, result, &err) != 0)
        tide_log(TIDE_LOG_WARN, "%s", err.msg);
}

/* Reads the ledger whole; NULL with *missing set when there is none. */
static char *read_ledger(const char *runs_dir, bool *missing, struct tide_err *err)
{
    char path[4200];
    ledger_path(runs_dir, path, sizeof path);
    *missing = false;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        *missing = errno == ENOENT;
        tide_err_set(err, "%s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size <= LEDGER_MAX;
    close(fd);
    if (!ok) {
        tide_err_set(err, "%s: not a regular file of at most 256 MiB (refused)", path);
        return NULL;
    }
    return tide_fs_read_all(path, NULL, err);
}

/* One ledger record: its chain link and "seq" hold; printed as one line to 'out' if any. */
static bool ledger_record(void *ctx, long lineno, const cJSON *r, bool chain_ok)
{
    FILE *out = ctx;
    const cJSON *seq = cJSON_GetObjectItem(r, "seq");
    if (!chain_ok || !cJSON_IsNumber(seq) || (long)seq->valuedouble != lineno)
        return false;
    if (out != NULL) {
        const cJSON *op = cJSON_GetObjectItem(r, "operator");
        const char *user = cJSON_GetStringValue(cJSON_GetObjectItem(op, "user"));
        const char *host = cJSON_GetStringValue(cJSON_GetObjectItem(op, "host"));
        fprintf(out, "%5ld  %s  %s@%s  %-8s %s  %s\n", lineno,
                cJSON_GetStringValue(cJSON_GetObjectItem(r, "time")), user ? user : "?",
                host ? host : "?", cJSON_GetStringValue(cJSON_GetObjectItem(r, "command")),
                cJSON_GetStringValue(cJSON_GetObjectItem(r, "run")),
                cJSON_GetStringValue(cJSON_GetObjectItem(r, "result")));
    }
    return true;
}

int tide_ledger_check(const char *runs_dir, FILE *out, long *count, struct tide_err *err)
{
    bool missing;
    *count = 0;
    char *text = read_ledger(runs_dir, &missing, err);
    if (text == NULL)
        return missing ? 0 : -1;
    struct tide_chain_result res;
    int rc = tide_chain_walk(text, ledger_record, out, &res);
    if (rc != 0)
        tide_err_set(err,
                     "%s/" LEDGER_NAME " line %ld: the hash chain is broken (a record was edited, "
                     "removed or reordered)",
                     runs_dir, res.broken_line);
    free(text);
    *count = res.lines;
    return rc;
}

bool tide_ledger_manifest_sha(const char *runs_dir, const char *run_id, char hex[65])
{
    bool missing, found = false;
    struct tide_err err = {{0}};
    char *text = read_ledger(runs_dir, &missing, &err);
    if (text == NULL)
        return false;
    for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        if (strstr(line, "\"manifest_sha256\"") == NULL)
            continue;
        cJSON *r = cJSON_Parse(line);
        const char *cmd = cJSON_GetStringValue(cJSON_GetObjectItem(r, "command"));
        const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(r, "run"));
        const char *sha = cJSON_GetStringValue(cJSON_GetObjectItem(r, "manifest_sha256"));
        if (cmd != NULL && strcmp(cmd, "run") == 0 && id != NULL && strcmp(id, run_id) == 0 &&
            sha != NULL && strlen(sha) == 64) {
            memcpy(hex, sha, 65);
            found = true; /* the last one wins: a folder reused by --out */
        }
        cJSON_Delete(r);
    }
    free(text);
    return found;
}
