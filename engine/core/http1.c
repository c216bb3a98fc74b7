/* http1.c: the client's HTTP/1.1 request serializer (http1.h). */
#include "http1.h"
#include <string.h>
#include <strings.h>

/* ---- the request ---- */

/* The name of a header line ("Name: value" or "Name;"), its length. */
static size_t name_len(const char *line)
{
    size_t n = strcspn(line, ":;");
    return n;
}

/* Whether the caller's lines name 'name' (then the default is not sent). */
static bool given(const struct tide_http1_request *rq, const char *name)
{
    size_t want = strlen(name);
    for (size_t at = 0; at < rq->headers_len; at += strlen(rq->headers + at) + 1) {
        const char *line = rq->headers + at;
        if (name_len(line) == want && strncasecmp(line, name, want) == 0)
            return true;
    }
    return false;
}

/* One caller line as it goes out: "Name:" alone removes a default (nothing sent), "Name;"
 * sends the header with an empty value. */
static void put_line(struct tide_buf *out, const char *line)
{
    size_t n = name_len(line);
    const char *rest = line + n;
    if (*rest == ':') {
        const char *v = rest + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        if (*v == '\0')
            return;
    } else if (*rest == ';') {
        const char *v = rest + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        if (*v != '\0')
            return; /* "Name; x": not a header libcurl would send either */
        tide_buf_add(out, line, n);
        tide_buf_add(out, ":\r\n", 3);
        return;
    } else {
        return; /* no colon: not a header */
    }
    tide_buf_puts(out, line);
    tide_buf_add(out, "\r\n", 2);
}

static bool is_cookie(const char *line)
{
    return name_len(line) == 6 && strncasecmp(line, "Cookie", 6) == 0;
}

static bool is_body_header(const char *line)
{
    static const char *const names[] = {"Content-Type", "Content-Length", "Content-Encoding",
                                        "Content-Language", "Content-Location"};
    size_t n = name_len(line);
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        if (n == strlen(names[k]) && strncasecmp(line, names[k], n) == 0)
            return true;
    return false;
}

static bool is_credential(const char *line)
{
    static const char *const names[] = {"Authorization", "Cookie", "Proxy-Authorization"};
    size_t n = name_len(line);
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        if (n == strlen(names[k]) && strncasecmp(line, names[k], n) == 0)
            return true;
    return false;
}

/* "Name: value\r\n" without printf: the request head is written once per request, and the
 * printf engine cost more than the rest of the native client (bench/transport_cost.sh). */
static void put_header(struct tide_buf *out, const char *name_colon_space, const char *value)
{
    tide_buf_puts(out, name_colon_space);
    tide_buf_puts(out, value);
    tide_buf_add(out, "\r\n", 2);
}

static void put_length(struct tide_buf *out, size_t n)
{
    char digits[24];
    size_t at = sizeof digits;
    do {
        digits[--at] = (char)('0' + n % 10);
        n /= 10;
    } while (n > 0);
    tide_buf_puts(out, "Content-Length: ");
    tide_buf_add(out, digits + at, sizeof digits - at);
    tide_buf_add(out, "\r\n", 2);
}

int tide_http1_write_request(struct tide_buf *out, const struct tide_http1_request *rq)
{
    tide_buf_puts(out, rq->method);
    tide_buf_add(out, " ", 1);
    tide_buf_puts(out, rq->target);
    tide_buf_add(out, " HTTP/1.1\r\n", 11);
    if (!given(rq, "Host"))
        put_header(out, "Host: ", rq->host);
    if (rq->user_agent != NULL && !given(rq, "User-Agent"))
        put_header(out, "User-Agent: ", rq->user_agent);
    if (!given(rq, "Accept"))
        tide_buf_puts(out, "Accept: */*\r\n");
    for (size_t at = 0; at < rq->headers_len; at += strlen(rq->headers + at) + 1) {
        const char *line = rq->headers + at;
        if ((rq->drop_credentials && is_credential(line)) ||
            (rq->cookie != NULL && is_cookie(line)) ||
            (rq->drop_body_headers && is_body_header(line)))
            continue;
        put_line(out, line);
    }
    if (rq->cookie != NULL && rq->cookie[0] != '\0')
        put_header(out, "Cookie: ", rq->cookie);
    if (rq->with_body) {
        if (!given(rq, "Content-Length"))
            put_length(out, rq->body_len);
        if (!given(rq, "Content-Type"))
            tide_buf_puts(out, "Content-Type: application/x-www-form-urlencoded\r\n");
    }
    tide_buf_add(out, "\r\n", 2);
    if (rq->with_body && rq->body_len > 0)
        tide_buf_add(out, rq->body, rq->body_len);
    return out->failed ? -1 : 0;
}
