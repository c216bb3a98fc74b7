/* record.c: appending to <runs folder>/.exports.jsonl. */
#include "record.h"
#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "log.h"

int tide_export_runs_folder(const char *dir, char *out, size_t outlen, struct tide_err *err)
{
    char real[PATH_MAX];
    if (realpath(dir, real) == NULL)
        return tide_err_set(err, "%s: %s", dir, strerror(errno));
    char *slash = strrchr(real, '/');
    if (slash == real)
        slash[1] = '\0'; /* a folder right under / */
    else
        *slash = '\0';
    if (strlen(real) >= outlen)
        return tide_err_set(err, "%s: path too long", dir);
    memcpy(out, real, strlen(real) + 1);
    return 0;
}

const char *tide_export_operator(void)
{
    const char *env = getenv("TIDE_OPERATOR");
    if (env != NULL && env[0] != '\0')
        return env;
    struct passwd *pw = getpwuid(geteuid());
    return pw != NULL && pw->pw_name != NULL ? pw->pw_name : "unknown";
}

int tide_export_record(const char *runs_folder, cJSON *rec, struct tide_err *err)
{
    char path[PATH_MAX + 32], now[32];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", &tm);
    cJSON *copy = cJSON_Duplicate(rec, 1);
    if (copy == NULL)
        return tide_err_set(err, "out of memory");
    cJSON_AddStringToObject(copy, "operator", tide_export_operator());
    cJSON_AddStringToObject(copy, "time", now);
    tide_redact_json(copy);
    char *line = cJSON_PrintUnformatted(copy);
    cJSON_Delete(copy);
    if (line == NULL)
        return tide_err_set(err, "out of memory");
    snprintf(path, sizeof path, "%s/.exports.jsonl", runs_folder);
    size_t len = strlen(line);
    char *withnl = realloc(line, len + 2);
    if (withnl == NULL) {
        free(line);
        return tide_err_set(err, "out of memory");
    }
    withnl[len] = '\n';
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0644);
    int ok = fd >= 0 && write(fd, withnl, len + 1) == (ssize_t)(len + 1) && fsync(fd) == 0;
    int saved = errno;
    if (fd >= 0)
        close(fd);
    free(withnl);
    if (!ok)
        return tide_err_set(err, "cannot record the export in %s: %s", path, strerror(saved));
    return 0;
}
