/* audit_cmd.c: tide verify, tide sign, tide audit (see audit_cmd.h). */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "audit.h"
#include "audit_cmd.h"
#include "ledger.h"
#include "run.h"
#include "sign.h"

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The folder checks, the ledger anchor, the signature. 0 intact, else -1 with the reason;
 * 'summary' tells what was checked. */
static int verify_all(const char *dir, const char *allowed, char *summary, size_t len,
                      struct tide_err *err)
{
    struct tide_verify_info info;
    if (tide_audit_verify_dir(dir, &info, err) != 0)
        return -1;
    char runs[4096], id[1024], recorded[65], anchor[128], who[256] = "", signature[400];
    tide_ledger_locate(dir, runs, sizeof runs, id, sizeof id);
    if (tide_ledger_manifest_sha(runs, id, recorded)) {
        if (strcmp(recorded, info.manifest_sha256) != 0)
            return tide_err_set(err, "manifest.json: sha256 differs from the one the ledger "
                                     "recorded when the run ended (edited after the run)");
        snprintf(anchor, sizeof anchor, "manifest matches the ledger");
    } else {
        snprintf(anchor, sizeof anchor, "no ledger record of this run to compare the manifest");
    }
    char manifest[4200], sigpath[4300];
    snprintf(manifest, sizeof manifest, "%s/manifest.json", dir);
    snprintf(sigpath, sizeof sigpath, "%s.sig", manifest);
    struct stat st;
    bool has_sig = lstat(sigpath, &st) == 0;
    if (!has_sig && allowed != NULL)
        return tide_err_set(err, "manifest.json.sig: missing (the run is not signed)");
    if (has_sig && !S_ISREG(st.st_mode))
        return tide_err_set(err, "manifest.json.sig: not a regular file (refused)");
    if (has_sig) {
        struct tide_err serr = {{0}};
        if (tide_sign_verify_file(manifest, allowed, who, sizeof who, &serr) != 0)
            return tide_err_set(err, "manifest.json.sig: %s", serr.msg);
        if (allowed != NULL)
            snprintf(signature, sizeof signature, "signed by %s", who);
        else
            snprintf(signature, sizeof signature,
                     "signature valid, key %s (not checked against allowed signers)", who);
    } else {
        snprintf(signature, sizeof signature, "not signed");
    }
    snprintf(summary, len, "%ld events (head %.12s), %s, %s", info.events, info.head, anchor,
             signature);
    return 0;
}

int tide_verify_main(int argc, char **argv)
{
    const char *dir = NULL, *allowed = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--allowed-signers") == 0 && i + 1 < argc)
            allowed = argv[++i];
        else if (argv[i][0] != '-' && dir == NULL)
            dir = argv[i];
        else {
            fprintf(stderr, "tide: usage: tide verify DIR [--allowed-signers FILE]\n");
            return TIDE_EXIT_USAGE;
        }
    }
    if (dir == NULL) {
        fprintf(stderr, "tide: usage: tide verify DIR [--allowed-signers FILE]\n");
        return TIDE_EXIT_USAGE;
    }
    if (!is_dir(dir)) {
        fprintf(stderr, "tide: verify: %s is not a run folder\n", dir);
        return TIDE_EXIT_USAGE;
    }
    struct tide_err err = {{0}};
    char summary[1024];
    int rc = TIDE_EXIT_OK;
    if (verify_all(dir, allowed, summary, sizeof summary, &err) != 0) {
        fprintf(stderr, "tide: verify %s: %s\n", dir, err.msg);
        rc = TIDE_EXIT_THRESHOLDS;
    } else {
        printf("%s: intact: manifest hashes, nothing added, %s\n", dir, summary);
    }
    tide_ledger_note(dir, "verify", rc);
    return rc;
}

static bool help(int argc, char **argv, const char *text)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(text, stdout);
            return true;
        }
    }
    return false;
}

int tide_sign_main(int argc, char **argv)
{
    const char *dir = NULL, *key = NULL;
    if (help(argc, argv,
             "usage: tide sign DIR --key KEY\n\nSigns DIR/manifest.json with an unencrypted "
             "OpenSSH Ed25519 key (manifest.json.sig,\nssh-keygen -Y verify -n tide checks it). "
             "See docs/sovereignty.md.\n"))
        return TIDE_EXIT_OK;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--key") == 0 && i + 1 < argc)
            key = argv[++i];
        else if (argv[i][0] != '-' && dir == NULL)
            dir = argv[i];
        else
            dir = NULL, i = argc;
    }
    if (dir == NULL || key == NULL) {
        fprintf(stderr, "tide: usage: tide sign DIR --key KEY\n");
        return TIDE_EXIT_USAGE;
    }
    if (!is_dir(dir)) {
        fprintf(stderr, "tide: sign: %s is not a run folder\n", dir);
        return TIDE_EXIT_USAGE;
    }
    struct tide_err err = {{0}};
    if (tide_sign_check_key(key, &err) != 0) {
        fprintf(stderr, "tide: sign: %s\n", err.msg);
        return TIDE_EXIT_USAGE;
    }
    /* a folder that does not verify is not signed: a signature would vouch for the change */
    char manifest[4200];
    snprintf(manifest, sizeof manifest, "%s/manifest.json", dir);
    int rc = TIDE_EXIT_OK;
    if (tide_audit_verify_dir(dir, NULL, &err) != 0) {
        fprintf(stderr, "tide: sign %s: refused, the folder does not verify: %s\n", dir, err.msg);
        rc = TIDE_EXIT_THRESHOLDS;
    } else if (tide_sign_file(manifest, key, &err) != 0) {
        fprintf(stderr, "tide: sign %s: %s\n", dir, err.msg);
        rc = TIDE_EXIT_INTERNAL;
    } else {
        printf("%s: manifest.json signed (manifest.json.sig)\n", dir);
    }
    tide_ledger_note(dir, "sign", rc);
    return rc;
}

int tide_audit_main(int argc, char **argv)
{
    if (help(argc, argv,
             "usage: tide audit [DIR]\n\nPrints the access ledger (DIR/.ledger.jsonl, DIR "
             "default report) and checks its hash\nchain: exit 99 naming the first broken "
             "line. See docs/sovereignty.md.\n"))
        return TIDE_EXIT_OK;
    if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
        fprintf(stderr, "tide: usage: tide audit [DIR]   (DIR: the runs folder, default report)\n");
        return TIDE_EXIT_USAGE;
    }
    const char *dir = argc == 2 ? argv[1] : "report";
    if (!is_dir(dir)) {
        fprintf(stderr, "tide: audit: %s is not a folder\n", dir);
        return TIDE_EXIT_USAGE;
    }
    char runs[4096], id[1024], m[4200];
    struct stat st;
    snprintf(m, sizeof m, "%s/manifest.json", dir);
    if (lstat(m, &st) == 0) /* a run folder: its ledger is beside it */
        tide_ledger_locate(dir, runs, sizeof runs, id, sizeof id);
    else
        snprintf(runs, sizeof runs, "%s", dir);
    struct tide_err err = {{0}};
    long n = 0;
    if (tide_ledger_check(runs, stdout, &n, &err) != 0) {
        fflush(stdout);
        fprintf(stderr, "tide: audit: %s\n", err.msg);
        return TIDE_EXIT_THRESHOLDS;
    }
    if (n == 0)
        printf("%s: no access recorded (no .ledger.jsonl)\n", runs);
    else
        printf("%s/.ledger.jsonl: %ld records, hash chain intact\n", runs, n);
    return TIDE_EXIT_OK;
}
