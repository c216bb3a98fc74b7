/* distributed.c: segments, synchronized starts and setup data for split tests. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "distributed.h"
#include "duration.h"
#include "fsutil.h"
#include "segment.h"

int tide_distributed_segment(const struct tide_cli *cli, struct tide_config *cfg,
                             struct tide_err *err)
{
    struct tide_segment seg = TIDE_SEGMENT_WHOLE;
    int count = cli->segments;
    const char *env = getenv("TIDE_SEGMENTS");
    if (count == 0 && cli->segment == NULL && env != NULL && env[0] != '\0') {
        char *end;
        long n = strtol(env, &end, 10);
        if (*end != '\0' || n < 1 || n > 10000)
            return tide_err_set(err, "TIDE_SEGMENTS \"%s\": expected a number from 1 to 10000",
                                env);
        count = (int)n;
    }
    if (cli->segment != NULL) {
        if (tide_segment_parse(cli->segment, &seg, err) != 0)
            return -1;
        if (count > 0 && count != seg.count)
            return tide_err_set(err, "--segment %s and --segments %d disagree", cli->segment,
                                count);
    } else if (count > 0) {
        const char *index = getenv("JOB_COMPLETION_INDEX");
        if (index == NULL)
            return tide_err_set(err,
                                "--segments %d needs JOB_COMPLETION_INDEX (set in a Kubernetes "
                                "Indexed Job) or --segment I/N",
                                count);
        if (tide_segment_from_index(index, count, &seg, err) != 0)
            return -1;
    }
    cfg->segment_index = seg.index;
    cfg->segment_count = seg.count;
    return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (no time zone involved). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++, (*p)++) {
        if (!isdigit((unsigned char)**p))
            return -1;
        v = v * 10 + (**p - '0');
    }
    *out = v;
    return 0;
}

/* 2026-12-06T04:00:00[.fff][Z|+hh:mm|-hh:mm] ('t' or ' ' for 'T', 'z' for 'Z') */
static int parse_rfc3339(const char *s, int64_t *us)
{
    int y, mo, d, h, mi, se;
    const char *p = s;
    if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' ||
        digits(&p, 2, &d) || (*p != 'T' && *p != 't' && *p != ' '))
        return -1;
    p++;
    if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi) || *p++ != ':' || digits(&p, 2, &se))
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
        return -1;
    int64_t frac = 0, scale = 1000000;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return -1;
        while (isdigit((unsigned char)*p)) {
            if (scale > 1) {
                scale /= 10;
                frac += (*p - '0') * scale;
            }
            p++;
        }
    }
    int64_t offset_s = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1, oh, om;
        if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om))
            return -1;
        offset_s = sign * (oh * 3600 + om * 60);
    } else {
        return -1; /* a time without a zone means nothing across machines */
    }
    if (*p != '\0')
        return -1;
    int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - offset_s;
    *us = secs * 1000000 + frac;
    return 0;
}

int tide_start_at_parse(const char *text, int64_t now_wall_us, int64_t *at_wall_us,
                        struct tide_err *err)
{
    if (strncmp(text, "now+", 4) == 0) {
        int64_t d;
        struct tide_err e;
        if (tide_duration_parse(text + 4, &d, &e) != 0)
            return tide_err_set(err, "--start-at \"%s\": %s", text, e.msg);
        *at_wall_us = now_wall_us + d;
        return 0;
    }
    char *end;
    errno = 0;
    double epoch = strtod(text, &end);
    if (end != text && *end == '\0' && errno == 0 && isfinite(epoch) && epoch > 0 && epoch < 1e11) {
        *at_wall_us = (int64_t)llround(epoch * 1e6);
        return 0;
    }
    if (parse_rfc3339(text, at_wall_us) == 0)
        return 0;
    return tide_err_set(err,
                        "--start-at \"%s\": expected an RFC 3339 time with a zone "
                        "(2026-12-06T04:00:00Z), epoch seconds, or now+DURATION (now+2s)",
                        text);
}

cJSON *tide_setup_data_read(const char *path, struct tide_err *err)
{
    size_t len = 0;
    char *text = tide_fs_read_all(path, &len, NULL);
    if (text == NULL) {
        tide_err_set(err, "--setup-data %s: %s", path, strerror(errno));
        return NULL;
    }
    const char *end = NULL;
    cJSON *j = memchr(text, 0, len) == NULL ? cJSON_ParseWithOpts(text, &end, true) : NULL;
    free(text);
    if (j == NULL)
        tide_err_set(err, "--setup-data %s: not JSON (write it with tide run --phase setup)", path);
    return j;
}

int tide_setup_data_write(const char *path, const cJSON *data, struct tide_err *err)
{
    char *text = data != NULL ? cJSON_PrintUnformatted(data) : strdup("null");
    if (text == NULL)
        return tide_err_set(err, "out of memory");
    size_t n = strlen(text);
    char *line = malloc(n + 2);
    int rc = -1;
    if (line != NULL) {
        memcpy(line, text, n);
        line[n] = '\n';
        line[n + 1] = '\0';
        rc = tide_fs_write_atomic(path, line, n + 1, err);
        if (rc == 0)
            chmod(path, 0600); /* it may hold a token setup() obtained */
    } else {
        tide_err_set(err, "out of memory");
    }
    free(line);
    free(text);
    return rc;
}
