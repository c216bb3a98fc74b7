/* sign.h: signing a run folder's manifest.json (and erasure receipts) with an OpenSSH Ed25519
 * key, in the format of `ssh-keygen -Y sign -n tide` (base/sshsig.h), into FILE.sig beside it;
 * and checking such a signature against an allowed_signers file. */
#ifndef TIDE_SIGN_H
#define TIDE_SIGN_H
#include <stddef.h>
#include "err.h"

#define TIDE_SIGN_NAMESPACE "tide"

/* The key can sign (read, unencrypted, Ed25519): checked before a run, so a bad --sign stops
 * it before any request. */
int tide_sign_check_key(const char *keyfile, struct tide_err *err);
/* Writes 'file'.sig, the signature of 'file' by 'keyfile'. */
int tide_sign_file(const char *file, const char *keyfile, struct tide_err *err);
/* Checks 'file'.sig. 'allowed_file' (NULL: any key, integrity only) names an allowed_signers
 * file; 'who' gets the principal (or the key's fingerprint when no file is given). */
int tide_sign_verify_file(const char *file, const char *allowed_file, char *who, size_t who_len,
                          struct tide_err *err);

#endif
