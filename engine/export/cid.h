/* cid.h: content identifiers as IPFS writes them: unsigned varints, sha2-256 multihashes,
 * CIDv1 (raw 0x55 or dag-pb 0x70) and their text form (multibase 'b': base32, lower case, no
 * padding). Only what tide's exports need: CIDv1 with sha2-256; anything else is refused, not
 * guessed at, so a CID tide prints is one any IPFS implementation computes the same way. */
#ifndef TIDE_CID_H
#define TIDE_CID_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { TIDE_CODEC_RAW = 0x55, TIDE_CODEC_DAG_PB = 0x70 };
enum { TIDE_CID_BYTES = 36, TIDE_CID_TEXT = 64 }; /* 01 codec 12 20 digest; 'b' + 58 + NUL */

struct tide_cid {
    uint8_t codec; /* TIDE_CODEC_RAW or TIDE_CODEC_DAG_PB */
    uint8_t digest[32];
};

/* Unsigned LEB128 varints (multiformats' unsigned-varint: at most 9 bytes, minimal form).
 * put: writes into out (room for 10) and returns the byte count. get: the byte count read, or
 * 0 when the input is cut, too long or not minimal. */
size_t tide_varint_put(uint8_t *out, uint64_t v);
size_t tide_varint_get(const uint8_t *p, size_t len, uint64_t *v);

/* The CID of 'data' under 'codec' (sha2-256 of the bytes). */
void tide_cid_of(uint8_t codec, const void *data, size_t len, struct tide_cid *cid);
bool tide_cid_equal(const struct tide_cid *a, const struct tide_cid *b);
/* Binary form, TIDE_CID_BYTES long. */
void tide_cid_to_bytes(const struct tide_cid *cid, uint8_t out[TIDE_CID_BYTES]);
/* Reads a binary CID at p; the byte count read, or 0 when it is not a CIDv1 with a sha2-256
 * digest of a raw or dag-pb block ('why' then says which part, when not NULL). */
size_t tide_cid_from_bytes(const uint8_t *p, size_t len, struct tide_cid *cid, const char **why);
/* Text form ("bafy..."). */
void tide_cid_to_text(const struct tide_cid *cid, char out[TIDE_CID_TEXT]);
/* Parses the text form; 0, or -1 when it is not a base32 CIDv1 tide can read. */
int tide_cid_from_text(const char *text, struct tide_cid *cid);

#endif
