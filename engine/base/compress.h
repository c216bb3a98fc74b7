/* compress.h: a whole body compressed with zlib, one call: what a request sends with the
 * `compression` option (lua/lua_http.c) and what `tide target` serves on /gzip/{n},
 * /deflate/{n} and its compressed faults (target/). Decoding, streamed and bounded, is
 * core/decode.h's. */
#ifndef TIDE_COMPRESS_H
#define TIDE_COMPRESS_H
#include <stddef.h>
#include "buf.h"

/* 'in' compressed and appended to 'out': "gzip" (one gzip member), "deflate" (a zlib stream,
 * what HTTP's deflate coding means) or "deflate-raw" (bare deflate data, as some servers send
 * for deflate). 0, -1: unknown coding, -2: out of memory. */
int tide_compress(const char *coding, const char *in, size_t n, struct tide_buf *out);

#endif
