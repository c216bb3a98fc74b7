/* sshsig.h: OpenSSH signatures (the SSHSIG format of `ssh-keygen -Y sign`, PROTOCOL.sshsig) with
 * Ed25519 keys, made and checked with OpenSSL, so a signed file verifies with plain
 * `ssh-keygen -Y verify` and tide accepts what ssh-keygen signed. Keys are read from OpenSSH's
 * private key file ("openssh-key-v1", unencrypted); trusted keys from an allowed_signers file
 * (ssh-keygen(1), ALLOWED SIGNERS). Pure functions of their inputs: no state. */
#ifndef TIDE_SSHSIG_H
#define TIDE_SSHSIG_H
#include <stddef.h>
#include "err.h"

/* Signs 'msg' for 'ns' (e.g. "tide") with SHA-512 and the Ed25519 key in 'keyfile'. Returns the
 * armored signature ("-----BEGIN SSH SIGNATURE-----"...), malloc'd, or NULL with a message
 * (missing file, not an OpenSSH private key, an encrypted key, not Ed25519). */
char *tide_sshsig_sign(const char *keyfile, const char *ns, const void *msg, size_t len,
                       struct tide_err *err);

/* Checks an armored signature of 'msg' for namespace 'ns'. With 'allowed' (the text of an
 * allowed_signers file; NULL: any key), the signing key must be listed there (for 'ns' when the
 * line restricts namespaces), and its first principal is copied into 'principal'. The key's
 * SHA256 fingerprint (as ssh-keygen prints it) goes into 'fingerprint' when not NULL.
 * 0: valid; -1: not, with the reason. */
int tide_sshsig_verify(const char *armored, const char *ns, const void *msg, size_t len,
                       const char *allowed, char *principal, size_t principal_len,
                       char fingerprint[64], struct tide_err *err);

#endif
