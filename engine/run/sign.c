/* sign.c: FILE.sig beside a signed file (see sign.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "fsutil.h"
#include "sign.h"
#include "sshsig.h"

#define SIGNED_MAX ((size_t)16 << 20)

/* 'path' is a regular file of at most SIGNED_MAX bytes: checked on a non-blocking open, so a
 * FIFO or a device given as a key, a signature or an allowed_signers file cannot hang tide. */
static int regular(const char *what, const char *path, struct tide_err *err)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return tide_err_set(err, "%s %s: %s", what, path, strerror(errno));
    struct stat st;
    int rc = 0;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        rc = tide_err_set(err, "%s %s: not a regular file (refused)", what, path);
    else if ((size_t)st.st_size > SIGNED_MAX)
        rc = tide_err_set(err, "%s %s: larger than 16 MiB (refused)", what, path);
    close(fd);
    return rc;
}

int tide_sign_check_key(const char *keyfile, struct tide_err *err)
{
    if (regular("signing key", keyfile, err) != 0)
        return -1;
    char *sig = tide_sshsig_sign(keyfile, TIDE_SIGN_NAMESPACE, "", 0, err);
    free(sig);
    return sig != NULL ? 0 : -1;
}

int tide_sign_file(const char *file, const char *keyfile, struct tide_err *err)
{
    size_t len = 0;
    if (regular("signing key", keyfile, err) != 0 || regular("file to sign", file, err) != 0)
        return -1;
    char *text = tide_fs_read_all(file, &len, err);
    if (text == NULL)
        return -1;
    char *sig = tide_sshsig_sign(keyfile, TIDE_SIGN_NAMESPACE, text, len, err);
    free(text);
    if (sig == NULL)
        return -1;
    char path[4200];
    snprintf(path, sizeof path, "%s.sig", file);
    int rc = tide_fs_write_atomic(path, sig, strlen(sig), err);
    free(sig);
    return rc;
}

int tide_sign_verify_file(const char *file, const char *allowed_file, char *who, size_t who_len,
                          struct tide_err *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s.sig", file);
    size_t len = 0, slen = 0;
    char *allowed = NULL;
    if ((allowed_file != NULL && regular("allowed signers", allowed_file, err) != 0) ||
        regular("signature", path, err) != 0 || regular("signed file", file, err) != 0)
        return -1;
    if (allowed_file != NULL && (allowed = tide_fs_read_all(allowed_file, NULL, err)) == NULL)
        return -1;
    struct tide_err ferr = {{0}};
    char *sig = tide_fs_read_all(path, &slen, &ferr);
    char *text = sig != NULL ? tide_fs_read_all(file, &len, err) : NULL;
    int rc = -1;
    char fpr[64] = "";
    if (sig == NULL)
        tide_err_set(err, "%s: no signature (%s)", path, ferr.msg);
    else if (text != NULL && slen <= SIGNED_MAX)
        rc = tide_sshsig_verify(sig, TIDE_SIGN_NAMESPACE, text, len, allowed, who, who_len, fpr,
                                err);
    if (rc == 0 && allowed == NULL)
        snprintf(who, who_len, "%s", fpr);
    free(sig);
    free(text);
    free(allowed);
    return rc;
}
