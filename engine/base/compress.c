/* compress.c: one-shot zlib compression (compress.h). */
#include "compress.h"
#include <string.h>
#include <zlib.h>

#define CHUNK ((size_t)16 << 10)

int tide_compress(const char *coding, const char *in, size_t n, struct tide_buf *out)
{
    int bits;
    if (strcmp(coding, "gzip") == 0)
        bits = 16 + MAX_WBITS;
    else if (strcmp(coding, "deflate") == 0)
        bits = MAX_WBITS;
    else if (strcmp(coding, "deflate-raw") == 0)
        bits = -MAX_WBITS;
    else
        return -1;
    z_stream z = {0};
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, bits, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return -2;
    unsigned char chunk[CHUNK];
    z.next_in = (unsigned char *)in;
    int rc = Z_OK;
    while (rc == Z_OK) {
        uInt part = n > ((size_t)1 << 30) ? (uInt)1 << 30 : (uInt)n; /* uInt is 32 bits */
        z.avail_in = part;
        z.next_out = chunk;
        z.avail_out = sizeof chunk;
        rc = deflate(&z, part == n ? Z_FINISH : Z_NO_FLUSH);
        n -= part - z.avail_in;
        if (tide_buf_append(out, chunk, sizeof chunk - z.avail_out) != 0)
            rc = Z_MEM_ERROR;
        else if (rc == Z_BUF_ERROR)
            rc = Z_OK; /* no room this round: the next one has it */
    }
    deflateEnd(&z);
    return rc == Z_STREAM_END ? 0 : -2;
}
