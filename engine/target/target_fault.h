/* target_fault.h: the GET /_fault/<kind> routes of 'tide target' (docs/target.md#fault-routes):
 * one answer per classic HTTP failure (a bad status line, a body shorter than announced, broken
 * chunked framing, a reset or a stall in the middle, an empty reply, a slow body, a redirect
 * loop, a gzip bomb, a huge header line, too many headers), so that one target serves the whole
 * fault suite (tests/e2e/test_faults.py). This module writes the answer's bytes; the server
 * (target.c) sends them and then does what 'after' says. */
#ifndef TIDE_TARGET_FAULT_H
#define TIDE_TARGET_FAULT_H
#include <stddef.h>
#include <stdint.h>
#include "buf.h"
#include "target_http.h"

/* What the server does once the bytes are written. */
enum tide_fault_after {
    TIDE_FAULT_KEEP,  /* a complete response: keep the connection as the request asked */
    TIDE_FAULT_CLOSE, /* send everything, then close (FIN) */
    TIDE_FAULT_RESET, /* send everything, wait a moment, then close with a TCP RST */
    TIDE_FAULT_STALL, /* send the head only, then nothing until the client gives up */
    TIDE_FAULT_SLOW,  /* send the head, then the body in pieces over 'slow_s' */
};

/* Counted in /_stats in place of a status when the answer has none. */
#define TIDE_FAULT_NO_STATUS (-3)

struct tide_fault_reply {
    enum tide_fault_after after;
    int status;     /* counted in /_stats: the status line's, or TIDE_FAULT_NO_STATUS */
    size_t body_at; /* offset in the buffer where the body starts */
    double slow_s;  /* TIDE_FAULT_SLOW: the body is spread over this many seconds */
};

/* Appends the answer to /_fault/<kind> (query: its parameters) to 'out'. -1 with *why set for
 * an unknown kind or a bad parameter (the caller answers 400). 'keep_alive' is the request's. */
int tide_target_fault(struct tide_http_str kind, struct tide_http_str query, bool keep_alive,
                      struct tide_buf *out, struct tide_fault_reply *r, const char **why);

/* A gzip member whose content is 'n' zero bytes (n >= 1), about n / 1032 bytes long: one
 * literal, then matches of 258 bytes at distance 1 that cost 2 bits each. Returns n rounded
 * down to 1 + 258 k, the size it really decodes to. */
uint64_t tide_fault_gzip_zeros(struct tide_buf *out, uint64_t n);

/* The CRC-32 (gzip's, zlib's crc32) of 'n' zero bytes, in O(log n). */
uint32_t tide_fault_crc32_zeros(uint64_t n);

#endif
