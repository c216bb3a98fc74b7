/* Unit tests of the JSON lines stream (engine/run/stream.h): the queue between the
 * coordinator and the writer is bounded (a pipe nobody reads makes it drop the oldest
 * seconds, counted, and every line that arrives is whole), a write error is reported, and bad
 * specs are refused. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../check.h"
#include "stream.h"

struct drain {
    int fd;
    long lines;
    long bad;
};

static void *drain_pipe(void *arg)
{
    struct drain *d = arg;
    char buf[65536];
    char last = '\n';
    ssize_t n;
    while ((n = read(d->fd, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] == '\n') {
                d->lines++;
                d->bad += last == '\n'; /* an empty line: a cut one */
            }
            last = buf[i];
        }
    }
    d->bad += last != '\n'; /* the last line must be whole */
    return NULL;
}

/* One second with 'series' http_reqs series; returns the points it makes. */
static long fill(struct tide_registry *reg, int series)
{
    char tags[64];
    for (int i = 0; i < series; i++) {
        snprintf(tags, sizeof tags, "name\x1f/item/%d", i);
        tide_registry_add(reg, TIDE_M_HTTP_REQS, tags, 1);
    }
    return series;
}

static void test_bounded_queue_drops_oldest(void)
{
    int p[2];
    CHECK(pipe(p) == 0);
    char spec[64];
    snprintf(spec, sizeof spec, "json=/dev/fd/%d", p[1]);
    struct tide_err err = {{0}};
    struct tide_stream *s = tide_stream_open(spec, &err);
    CHECK(s != NULL);
    close(p[1]); /* the stream has its own descriptor */
    if (s == NULL)
        return;
    struct tide_registry *reg = tide_registry_new();
    long points = 0;
    /* nobody reads the pipe: ~80 MB of lines against a 32 MB queue */
    for (int sec = 0; sec < 2000; sec++) {
        points += fill(reg, 200);
        tide_stream_second(s, reg, 1700000000000000 + (int64_t)sec * 1000000, false);
        tide_registry_reset(reg);
    }
    struct drain d = {p[0], 0, 0};
    pthread_t t;
    CHECK(pthread_create(&t, NULL, drain_pipe, &d) == 0);
    long dropped = tide_stream_close(s);
    pthread_join(t, NULL);
    close(p[0]);
    CHECK(dropped > 0);
    /* every point is either written or counted as dropped; the Metric line is extra */
    CHECK(d.lines + dropped == points + 1);
    CHECK(d.bad == 0);
    tide_registry_free(reg);
}

static void test_write_error_is_reported(void)
{
    struct tide_err err = {{0}};
    struct tide_stream *s = tide_stream_open("json=/dev/full", &err);
    CHECK(s != NULL);
    struct tide_registry *reg = tide_registry_new();
    fill(reg, 3);
    tide_stream_second(s, reg, 1700000000000000, false);
    CHECK(tide_stream_close(s) == -1);
    tide_registry_free(reg);
}

static void test_specs(void)
{
    struct tide_err err = {{0}};
    CHECK(tide_stream_check_spec("json=x.jsonl", &err) == 0);
    CHECK(tide_stream_check_spec("json=-", &err) == 0);
    CHECK(tide_stream_uses_stdout("json=-"));
    CHECK(!tide_stream_uses_stdout("json=x"));
    CHECK(tide_stream_check_spec("json=", &err) == -1);
    CHECK(tide_stream_check_spec("csv=x", &err) == -1 && strstr(err.msg, "unknown kind 'csv'"));
    CHECK(tide_stream_check_spec("x.jsonl", &err) == -1);
    CHECK(tide_stream_open("json=/nonexistent-dir/x", &err) == NULL &&
          strstr(err.msg, "cannot create") != NULL);
    CHECK(tide_stream_close(NULL) == 0);
}

int main(void)
{
    test_specs();
    test_write_error_is_reported();
    test_bounded_queue_drops_oldest();
    return CHECK_DONE();
}
