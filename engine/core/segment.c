/* segment.c: exact equal splits of a test into segments (see segment.h). */
#include <errno.h>
#include <stdlib.h>
#include "segment.h"

#define MAX_SEGMENTS 10000

int64_t tide_segment_share(struct tide_segment seg, int64_t total)
{
    if (seg.count <= 1)
        return total;
    return total / seg.count + (seg.index < total % seg.count ? 1 : 0);
}

int64_t tide_segment_arrival(struct tide_segment seg, int64_t j)
{
    if (seg.count <= 1)
        return j;
    return seg.index + j * seg.count;
}

int64_t tide_segment_arrivals_below(struct tide_segment seg, int64_t total)
{
    /* arrivals index + j*count < total: the same count as a share of 'total' units */
    return tide_segment_share(seg, total);
}

int64_t tide_segment_vu_id(struct tide_segment seg, int64_t local_id)
{
    if (seg.count <= 1)
        return local_id;
    return (local_id - 1) * seg.count + seg.index + 1;
}

void tide_segment_slice(struct tide_segment seg, int64_t len, int64_t *first, int64_t *n)
{
    if (seg.count <= 1) {
        *first = 0;
        *n = len;
        return;
    }
    int64_t q = len / seg.count, r = len % seg.count;
    /* segments before this one: each q, the first r of them one more */
    *first = (int64_t)seg.index * q + (seg.index < r ? seg.index : r);
    *n = tide_segment_share(seg, len);
}

static int parse_whole(const char *s, const char **end, long *out)
{
    char *e;
    errno = 0;
    if (*s < '0' || *s > '9')
        return -1;
    long v = strtol(s, &e, 10);
    if (errno != 0)
        return -1;
    *out = v;
    *end = e;
    return 0;
}

int tide_segment_parse(const char *text, struct tide_segment *seg, struct tide_err *err)
{
    long i = 0, n = 0;
    const char *p = text, *e = NULL;
    if (parse_whole(p, &e, &i) != 0 || *e != '/' || parse_whole(e + 1, &p, &n) != 0 || *p != '\0')
        return tide_err_set(err, "--segment \"%s\": expected I/N, e.g. 2/3 (the 2nd of 3)", text);
    if (n < 1 || n > MAX_SEGMENTS || i < 1 || i > n)
        return tide_err_set(err, "--segment \"%s\": I must be from 1 to N, N from 1 to %d", text,
                            MAX_SEGMENTS);
    seg->index = (int)i - 1;
    seg->count = (int)n;
    return 0;
}

int tide_segment_from_index(const char *index_text, int count, struct tide_segment *seg,
                            struct tide_err *err)
{
    long i = 0;
    const char *e = NULL;
    if (count < 1 || count > MAX_SEGMENTS)
        return tide_err_set(err, "--segments %d: expected 1 to %d", count, MAX_SEGMENTS);
    if (parse_whole(index_text, &e, &i) != 0 || *e != '\0' || i >= count)
        return tide_err_set(err,
                            "JOB_COMPLETION_INDEX \"%s\": expected 0 to %d (it is 0-based; "
                            "--segments is %d)",
                            index_text, count - 1, count);
    seg->index = (int)i;
    seg->count = count;
    return 0;
}
