/* age.h: the age file format (age-encryption.org/v1) with X25519 recipients, written with
 * OpenSSL 3 (X25519, HKDF-SHA-256, ChaCha20-Poly1305, HMAC-SHA-256). tide encrypts exports with
 * it so that destroying the identity key makes every encrypted copy unreadable
 * (crypto-shredding), and files it writes are read by the age tool and the reverse.
 *
 * A file: a text header (version line, one "-> X25519 share" stanza per recipient wrapping a
 * random 16-byte file key, an HMAC of the header) then a 16-byte nonce and the payload in
 * 64 KiB ChaCha20-Poly1305 chunks (STREAM nonces: 11-byte counter, last-chunk flag). Keys are
 * Bech32: recipients "age1...", identities "AGE-SECRET-KEY-1...". Only X25519 stanzas are
 * opened; passphrase (scrypt) and plugin files are refused with a clear message. */
#ifndef TIDE_AGE_H
#define TIDE_AGE_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "err.h"

#define TIDE_AGE_KEY_LEN 32
#define TIDE_AGE_KEY_STR 128 /* room for either Bech32 string and its NUL */

struct tide_age_key {
    uint8_t bytes[TIDE_AGE_KEY_LEN];
};

/* Keys. parse_*: a Bech32 string (surrounding spaces not allowed); 0 or -1 with a message
 * that never repeats a secret key. */
int tide_age_parse_recipient(const char *s, struct tide_age_key *pub, struct tide_err *err);
int tide_age_parse_identity(const char *s, struct tide_age_key *sec, struct tide_err *err);
void tide_age_recipient_string(const struct tide_age_key *pub, char out[TIDE_AGE_KEY_STR]);
void tide_age_identity_string(const struct tide_age_key *sec, char out[TIDE_AGE_KEY_STR]);
int tide_age_public_of(const struct tide_age_key *sec, struct tide_age_key *pub,
                       struct tide_err *err);
/* A new random identity and its recipient. */
int tide_age_keygen(struct tide_age_key *sec, struct tide_age_key *pub, struct tide_err *err);
/* An identity file as age-keygen writes it: '#' comments, blank lines and one or more
 * AGE-SECRET-KEY-1... lines. '*keys' is malloc'ed (the caller frees it after wiping). */
int tide_age_load_identities(const char *path, struct tide_age_key **keys, size_t *n,
                             struct tide_err *err);

/* Files. Both read 'in' to its end and write to 'out'. encrypt: to every recipient (n >= 1).
 * decrypt: with the first identity that opens a stanza; -1 with a message when none does,
 * when the header is malformed or its MAC is wrong, or when any chunk fails authentication
 * (a flipped byte, a truncated file). decrypt writes a chunk only after it authenticated, but
 * an error late in the file leaves earlier chunks written: callers write to a temporary file
 * and keep it only on success. */
int tide_age_encrypt(FILE *in, FILE *out, const struct tide_age_key *recipients, size_t n,
                     struct tide_err *err);
int tide_age_decrypt(FILE *in, FILE *out, const struct tide_age_key *identities, size_t n,
                     struct tide_err *err);

#endif
