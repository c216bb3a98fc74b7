/* bech32.h: the Bech32 encoding (BIP 173, checksum constant 1) that age uses for its keys:
 * recipients "age1..." and identities "AGE-SECRET-KEY-1...". age does not apply BIP 173's
 * 90-character limit, so neither does this module. */
#ifndef TIDE_BECH32_H
#define TIDE_BECH32_H
#include <stddef.h>
#include <stdint.h>

/* Writes hrp "1" data checksum in lowercase, or in uppercase when 'upper' is set, into 'out'
 * (NUL-terminated). Returns 0, or -1 when 'out' is too small or hrp is empty or not lowercase
 * printable ASCII. */
int tide_bech32_encode(const char *hrp, const uint8_t *data, size_t len, int upper, char *out,
                       size_t outsz);

/* Reads a Bech32 string (all lowercase or all uppercase, never mixed): its hrp in lowercase
 * into 'hrp' and its bytes into 'data' (at most 'cap'); '*len' is their number. Returns 0, or
 * -1 on a bad character, mixed case, a bad checksum, padding bits set or too small buffers. */
int tide_bech32_decode(const char *s, char *hrp, size_t hrpsz, uint8_t *data, size_t cap,
                       size_t *len);

#endif
