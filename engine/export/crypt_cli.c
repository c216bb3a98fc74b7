/* crypt_cli.c: tide keygen, encrypt and decrypt (see crypt_cli.h). */
#include "crypt_cli.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include "age.h"
#include "log.h"

/* tide's exit codes (docs/cli.md#exit-codes); the run layer owns their names. */
enum { EXIT_OK = 0, EXIT_INTERNAL = 1, EXIT_USAGE = 2, EXIT_FAILED = 99 };

static const char keygen_usage[] = "usage: tide keygen --out KEYFILE\n";
static const char encrypt_usage[] =
    "usage: tide encrypt FILE --to RECIPIENT [--to RECIPIENT...] [--out OUT]\n";
static const char decrypt_usage[] = "usage: tide decrypt FILE --identity KEYFILE [--out OUT]\n";

int tide_keygen_main(int argc, char **argv)
{
    const char *out = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
            out = argv[++i];
        else {
            fprintf(stderr, "tide: %s", keygen_usage);
            return EXIT_USAGE;
        }
    }
    if (out == NULL) {
        fprintf(stderr, "tide: %s", keygen_usage);
        return EXIT_USAGE;
    }
    struct tide_age_key sec, pub;
    struct tide_err err = {{0}};
    if (tide_age_keygen(&sec, &pub, &err) != 0) {
        tide_log(TIDE_LOG_ERROR, "keygen: %s", err.msg);
        return EXIT_INTERNAL;
    }
    char secs[TIDE_AGE_KEY_STR], pubs[TIDE_AGE_KEY_STR];
    tide_age_identity_string(&sec, secs);
    tide_age_recipient_string(&pub, pubs);
    OPENSSL_cleanse(&sec, sizeof sec);
    /* O_EXCL: never replace a key, whose loss would make every copy encrypted to it
     * unreadable. */
    int fd = open(out, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) {
        OPENSSL_cleanse(secs, sizeof secs);
        tide_log(TIDE_LOG_ERROR, "keygen: cannot create %s: %s", out, strerror(errno));
        return EXIT_USAGE;
    }
    FILE *f = fdopen(fd, "w");
    int ok = f != NULL && fprintf(f, "# public key: %s\n%s\n", pubs, secs) > 0;
    ok = f != NULL && fflush(f) == 0 && fsync(fd) == 0 && ok;
    if (f != NULL)
        ok = fclose(f) == 0 && ok;
    else
        close(fd);
    OPENSSL_cleanse(secs, sizeof secs);
    if (!ok) {
        unlink(out);
        tide_log(TIDE_LOG_ERROR, "keygen: cannot write %s", out);
        return EXIT_INTERNAL;
    }
    printf("%s\n", pubs);
    return EXIT_OK;
}

/* Runs 'work' from 'in' into a temporary file beside 'out', renamed over 'out' only when it
 * succeeded, so a failed decryption leaves no partial plaintext behind. */
static int through_temp(const char *in_path, const char *out_path,
                        int (*work)(FILE *, FILE *, const struct tide_age_key *, size_t,
                                    struct tide_err *),
                        const struct tide_age_key *keys, size_t n, struct tide_err *err)
{
    FILE *in = fopen(in_path, "rb");
    if (in == NULL)
        return tide_err_set(err, "cannot read %s: %s", in_path, strerror(errno));
    if (strcmp(out_path, "-") == 0) {
        int rc = work(in, stdout, keys, n, err);
        fclose(in);
        return rc;
    }
    size_t len = strlen(out_path) + 16;
    char *tmp = malloc(len);
    if (tmp == NULL) {
        fclose(in);
        return tide_err_set(err, "out of memory");
    }
    snprintf(tmp, len, "%s.tmp-XXXXXX", out_path);
    int fd = mkstemp(tmp);
    FILE *out = fd >= 0 ? fdopen(fd, "wb") : NULL;
    int rc;
    if (out == NULL) {
        rc = tide_err_set(err, "cannot write beside %s: %s", out_path, strerror(errno));
        if (fd >= 0)
            close(fd);
    } else {
        rc = work(in, out, keys, n, err);
        if (fclose(out) != 0 && rc == 0)
            rc = tide_err_set(err, "cannot write %s: %s", out_path, strerror(errno));
        if (rc == 0 && rename(tmp, out_path) != 0)
            rc = tide_err_set(err, "cannot write %s: %s", out_path, strerror(errno));
    }
    if (rc != 0 && fd >= 0)
        unlink(tmp);
    free(tmp);
    fclose(in);
    return rc;
}

int tide_encrypt_main(int argc, char **argv)
{
    const char *file = NULL, *out = NULL;
    struct tide_age_key *to = calloc((size_t)argc, sizeof *to);
    size_t n = 0;
    struct tide_err err = {{0}};
    int rc = EXIT_USAGE;
    if (to == NULL)
        return EXIT_INTERNAL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--to") == 0 && i + 1 < argc) {
            if (tide_age_parse_recipient(argv[++i], &to[n++], &err) != 0) {
                tide_log(TIDE_LOG_ERROR, "encrypt: %s", err.msg);
                goto done;
            }
        } else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
            out = argv[++i];
        } else if (file == NULL && argv[i][0] != '-') {
            file = argv[i];
        } else {
            fprintf(stderr, "tide: %s", encrypt_usage);
            goto done;
        }
    }
    if (file == NULL || n == 0) {
        fprintf(stderr, "tide: %s", encrypt_usage);
        goto done;
    }
    char *dflt = NULL;
    if (out == NULL) {
        size_t len = strlen(file) + 5;
        dflt = malloc(len);
        if (dflt == NULL) {
            rc = EXIT_INTERNAL;
            goto done;
        }
        snprintf(dflt, len, "%s.age", file);
        out = dflt;
    }
    if (through_temp(file, out, tide_age_encrypt, to, n, &err) != 0) {
        tide_log(TIDE_LOG_ERROR, "encrypt %s: %s", file, err.msg);
        rc = EXIT_USAGE;
    } else {
        rc = EXIT_OK;
    }
    free(dflt);
done:
    free(to);
    return rc;
}

int tide_decrypt_main(int argc, char **argv)
{
    const char *file = NULL, *out = NULL, *idfile = NULL;
    for (int i = 1; i < argc; i++) {
        if ((strcmp(argv[i], "--identity") == 0 || strcmp(argv[i], "-i") == 0) && i + 1 < argc)
            idfile = argv[++i];
        else if ((strcmp(argv[i], "--out") == 0 || strcmp(argv[i], "-o") == 0) && i + 1 < argc)
            out = argv[++i];
        else if (file == NULL && argv[i][0] != '-')
            file = argv[i];
        else {
            fprintf(stderr, "tide: %s", decrypt_usage);
            return EXIT_USAGE;
        }
    }
    if (file == NULL || idfile == NULL) {
        fprintf(stderr, "tide: %s", decrypt_usage);
        return EXIT_USAGE;
    }
    char *dflt = NULL;
    if (out == NULL) {
        size_t len = strlen(file);
        if (len <= 4 || strcmp(file + len - 4, ".age") != 0) {
            tide_log(TIDE_LOG_ERROR, "decrypt: %s does not end in .age: name the output with --out",
                     file);
            return EXIT_USAGE;
        }
        dflt = strdup(file);
        if (dflt == NULL)
            return EXIT_INTERNAL;
        dflt[len - 4] = '\0';
        out = dflt;
    }
    struct tide_age_key *ids = NULL;
    size_t n = 0;
    struct tide_err err = {{0}};
    int rc = EXIT_OK;
    if (tide_age_load_identities(idfile, &ids, &n, &err) != 0) {
        tide_log(TIDE_LOG_ERROR, "decrypt: %s", err.msg);
        rc = EXIT_USAGE;
    } else if (through_temp(file, out, tide_age_decrypt, ids, n, &err) != 0) {
        tide_log(TIDE_LOG_ERROR, "decrypt %s: %s", file, err.msg);
        rc = EXIT_FAILED;
    }
    if (ids != NULL) {
        OPENSSL_cleanse(ids, n * sizeof *ids);
        free(ids);
    }
    free(dflt);
    return rc;
}
