/* export_cmd.c: tide export, tide import, and tide verify of a CAR or against a CID. */
#include "export_cmd.h"
#include <cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "age.h"
#include "audit.h"
#include "car.h"
#include "cid.h"
#include "fsutil.h"
#include "ipfs.h"
#include "log.h"
#include "record.h"
#include "run.h"
#include "unixfs.h"
#include "unpack.h"

/* ---- the options: one line per flag ---- */

#define MAX_RECIPIENTS 16

struct export_args {
    const char *dir;
    const char *car;  /* --car FILE */
    const char *ipfs; /* --ipfs [URL] */
    /* --encrypt-to age1... (repeatable): every file encrypted before it becomes content */
    const char *recipients[MAX_RECIPIENTS];
    int nrecipients;
};

static const struct export_flag {
    const char *name;
    const char *metavar;
    const char *default_value; /* when the value may be left out */
    size_t field;              /* offsetof(struct export_args, ...) */
    const char *help;
} export_flags[] = {
    {"--car", "FILE", NULL, offsetof(struct export_args, car),
     "write the folder as a CARv1 file (outside the folder)"},
    {"--ipfs", "URL", TIDE_IPFS_DEFAULT_URL, offsetof(struct export_args, ipfs),
     "push it to the IPFS node whose RPC API is at URL, pinned\n(default " TIDE_IPFS_DEFAULT_URL
     "; only the URL given is contacted)"},
};

/* ---- what an export knows while it runs ---- */

struct export_ctx {
    const struct export_args *args;
    char runs_folder[PATH_MAX];
    char run_id[256];
    struct tide_dag dag;
    bool built;
    char root[TIDE_CID_TEXT];
    char car_path[PATH_MAX]; /* the CAR written (--car FILE, or a temporary file) */
    bool car_is_temp;
    char sealed[PATH_MAX]; /* with --encrypt-to: a temporary folder of FILE.age, exported */
};

static int exit_for(int internal) /* -1 from a step: which exit code */
{
    return internal ? TIDE_EXIT_INTERNAL : TIDE_EXIT_THRESHOLDS;
}

static cJSON *record_base(const struct export_ctx *c, const char *kind)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "run_id", c->run_id);
    cJSON_AddStringToObject(r, "kind", kind);
    cJSON_AddStringToObject(r, "ref", c->root);
    cJSON_AddStringToObject(r, "profile", TIDE_UNIXFS_PROFILE);
    cJSON_AddBoolToObject(r, "encrypted", c->args->nrecipients > 0);
    if (c->args->nrecipients > 0) {
        cJSON *to = cJSON_AddArrayToObject(r, "recipients");
        for (int i = 0; i < c->args->nrecipients; i++)
            cJSON_AddItemToArray(to, cJSON_CreateString(c->args->recipients[i]));
    }
    return r;
}

/* Writes the CAR once, to --car FILE or to a temporary file, for every destination. */
static int ensure_car(struct export_ctx *c, struct tide_err *err)
{
    if (c->car_path[0] != '\0')
        return 0;
    /* --car FILE is written next to FILE, then renamed over it: FILE holds a whole CAR or
     * what it held before, never a part of one. Without --car, a temporary file. */
    char path[PATH_MAX];
    const char *tmp = getenv("TMPDIR");
    if (c->args->car != NULL)
        snprintf(path, sizeof path, "%s.partial-XXXXXX", c->args->car);
    else
        snprintf(path, sizeof path, "%s/tide-export-XXXXXX",
                 tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
    int fd = mkstemp(path);
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (f == NULL) {
        int saved = errno;
        if (fd >= 0) {
            close(fd);
            unlink(path);
        }
        return tide_err_set(err, "cannot write %s: %s", c->args->car ? c->args->car : path,
                            strerror(saved));
    }
    uint64_t bytes = 0;
    int rc = tide_car_write(&c->dag, f, &bytes, err);
    if (rc == 0 && fsync(fileno(f)) != 0)
        rc = tide_err_set(err, "cannot write %s: %s", path, strerror(errno));
    if (fclose(f) != 0 && rc == 0)
        rc = tide_err_set(err, "cannot write %s: %s", path, strerror(errno));
    if (rc == 0 && c->args->car != NULL && rename(path, c->args->car) != 0)
        rc = tide_err_set(err, "cannot write %s: %s", c->args->car, strerror(errno));
    if (rc != 0) {
        unlink(path);
        return -1;
    }
    c->car_is_temp = c->args->car == NULL;
    snprintf(c->car_path, sizeof c->car_path, "%s", c->car_is_temp ? path : c->args->car);
    if (!c->car_is_temp)
        tide_log(TIDE_LOG_INFO, "wrote %s (%zu blocks in the DAG, %llu bytes)", c->car_path,
                 c->dag.n, (unsigned long long)bytes);
    return 0;
}

static int dest_car(struct export_ctx *c, const char *file, int *internal, struct tide_err *err)
{
    *internal = 1;
    if (ensure_car(c, err) != 0)
        return -1;
    char real[PATH_MAX];
    cJSON *r = record_base(c, "car");
    cJSON_AddStringToObject(r, "file", realpath(file, real) != NULL ? real : file);
    int rc = tide_export_record(c->runs_folder, r, err);
    cJSON_Delete(r);
    return rc;
}

static int dest_ipfs(struct export_ctx *c, const char *url, int *internal, struct tide_err *err)
{
    *internal = 1;
    if (ensure_car(c, err) != 0)
        return -1;
    struct tide_cid theirs;
    char text[TIDE_CID_TEXT];
    if (tide_ipfs_dag_import(url, c->car_path, &theirs, err) != 0)
        return -1;
    tide_cid_to_text(&theirs, text);
    if (strcmp(text, c->root) != 0) {
        *internal = 0;
        return tide_err_set(err, "the IPFS node imported root %s, not %s", text, c->root);
    }
    tide_log(TIDE_LOG_INFO, "the IPFS node at %s holds and pins %s", url, c->root);
    cJSON *r = record_base(c, "ipfs");
    cJSON_AddStringToObject(r, "url", url);
    int rc = tide_export_record(c->runs_folder, r, err);
    cJSON_Delete(r);
    return rc;
}

/* Destinations, in the order they run: the field that asks for one, and what it does. */
static const struct export_dest {
    size_t field;
    int (*run)(struct export_ctx *c, const char *value, int *internal, struct tide_err *err);
} export_dests[] = {
    {offsetof(struct export_args, car), dest_car},
    {offsetof(struct export_args, ipfs), dest_ipfs},
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static const char **field(struct export_args *a, size_t offset)
{
    return (const char **)(void *)((char *)a + offset);
}

void tide_export_usage(void)
{
    printf("usage: tide export DIR DESTINATION...\n\n"
           "Exports a run folder (checked first, as by tide verify) as a UnixFS DAG with the\n"
           "parameters of `ipfs add --cid-version=1` (profile %s), prints its root CID and\n"
           "appends a record to .exports.jsonl beside the run folder.\n\n",
           TIDE_UNIXFS_PROFILE);
    for (size_t i = 0; i < N_OF(export_flags); i++) {
        const struct export_flag *f = &export_flags[i];
        char left[64];
        snprintf(left, sizeof left, f->default_value ? "%s [%s]" : "%s %s", f->name, f->metavar);
        printf("  %-18s ", left);
        for (const char *h = f->help; *h != '\0'; h++) /* continuation lines under the first */
            *h == '\n' ? printf("\n%21s", "") : putchar(*h);
        putchar('\n');
    }
    printf("  %-18s age-encrypt every file (FILE.age) before it becomes content: only\n"
           "%21sholders of an identity read what was exported (repeatable)\n",
           "--encrypt-to AGE1", "");
    printf("  %-18s hooks on export_done (--plugin repeatable; --hook-timeout D):\n"
           "%21swhat was exported, see docs/extending.md#events-of-other-commands\n",
           "--plugin, --script", "");
    printf("\nexit codes: 0 exported; 99 the folder failed its check or a destination holds\n"
           "            other content; 2 bad usage; 1 the destination failed.\n\n"
           "usage: tide import FILE.car DIR   the folder back from a CAR (DIR new or empty),\n"
           "                                  checked against the CAR's root and as a run\n"
           "       tide verify FILE.car | DIR --cid CID   (see docs/export.md)\n");
}

static int parse_args(int argc, char **argv, struct export_args *a)
{
    memset(a, 0, sizeof *a);
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strncmp(arg, "--encrypt-to", 12) == 0 && (arg[12] == '\0' || arg[12] == '=')) {
            const char *r = arg[12] == '=' ? arg + 13 : i + 1 < argc ? argv[++i] : NULL;
            if (r == NULL || r[0] == '\0' || a->nrecipients == MAX_RECIPIENTS) {
                fprintf(stderr,
                        "tide: export: --encrypt-to needs an age1... recipient (at most "
                        "%d)\n",
                        MAX_RECIPIENTS);
                return -1;
            }
            a->recipients[a->nrecipients++] = r;
            continue;
        }
        const struct export_flag *f = NULL;
        const char *value = NULL;
        for (size_t k = 0; k < N_OF(export_flags) && f == NULL; k++) {
            size_t n = strlen(export_flags[k].name);
            if (strncmp(arg, export_flags[k].name, n) == 0 && (arg[n] == '\0' || arg[n] == '=')) {
                f = &export_flags[k];
                value = arg[n] == '=' ? arg + n + 1 : NULL;
            }
        }
        if (f == NULL && arg[0] == '-') {
            fprintf(stderr, "tide: export: unknown option %s (see tide export --help)\n", arg);
            return -1;
        }
        if (f == NULL) {
            if (a->dir != NULL) {
                fprintf(stderr, "tide: export: one run folder at a time (%s and %s)\n", a->dir,
                        arg);
                return -1;
            }
            a->dir = arg;
            continue;
        }
        /* An optional value is taken only when it looks like one (a URL), so
         * 'tide export --ipfs DIR' still reads DIR as the folder. */
        if (value == NULL && i + 1 < argc && argv[i + 1][0] != '-' &&
            (f->default_value == NULL || strstr(argv[i + 1], "://") != NULL))
            value = argv[++i];
        if (value == NULL)
            value = f->default_value;
        if (value == NULL || value[0] == '\0') {
            fprintf(stderr, "tide: export: %s needs a %s\n", f->name, f->metavar);
            return -1;
        }
        *field(a, f->field) = value;
    }
    if (a->dir == NULL) {
        fprintf(stderr, "tide: usage: tide export DIR --car FILE | --ipfs [URL]\n");
        return -1;
    }
    bool any = false;
    for (size_t k = 0; k < N_OF(export_dests); k++)
        any = any || *field(a, export_dests[k].field) != NULL;
    if (!any) {
        fprintf(stderr, "tide: export: no destination (--car FILE or --ipfs [URL])\n");
        return -1;
    }
    return 0;
}

/* The CAR may not land inside the folder it describes (it would change what it holds). */
static bool inside(const char *dir, const char *file)
{
    char rd[PATH_MAX], rf[PATH_MAX], parent[PATH_MAX];
    snprintf(parent, sizeof parent, "%s", file);
    char *slash = strrchr(parent, '/');
    if (slash == NULL)
        snprintf(parent, sizeof parent, ".");
    else if (slash == parent)
        parent[1] = '\0';
    else
        *slash = '\0';
    if (realpath(dir, rd) == NULL || realpath(parent, rf) == NULL)
        return false;
    size_t n = strlen(rd);
    return strncmp(rd, rf, n) == 0 && (rf[n] == '\0' || rf[n] == '/');
}

/* With --encrypt-to: every regular file of 'dir' encrypted to FILE.age in a new temporary
 * folder ('sealed'), which is then exported instead of 'dir' (the run folder is never
 * changed). Content on IPFS cannot be recalled; encrypted, it is unreadable once the team
 * destroys its identity keys (crypto-shredding, docs/export.md). */
static int seal_folder(const char *dir, const struct export_args *a, char *sealed, size_t len,
                       struct tide_err *err)
{
    struct tide_age_key keys[MAX_RECIPIENTS];
    for (int i = 0; i < a->nrecipients; i++) {
        if (tide_age_parse_recipient(a->recipients[i], &keys[i], err) != 0)
            return -1;
    }
    const char *tmp = getenv("TMPDIR");
    snprintf(sealed, len, "%s/tide-sealed-XXXXXX", tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
    if (mkdtemp(sealed) == NULL)
        return tide_err_set(err, "cannot make a temporary folder: %s", strerror(errno));
    DIR *d = opendir(dir);
    if (d == NULL)
        return tide_err_set(err, "cannot read %s: %s", dir, strerror(errno));
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        char from[PATH_MAX + 300], to[PATH_MAX + 300];
        struct stat st;
        snprintf(from, sizeof from, "%s/%s", dir, e->d_name);
        if (e->d_name[0] == '.' || lstat(from, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        snprintf(to, sizeof to, "%s/%s.age", sealed, e->d_name);
        FILE *in = fopen(from, "rb"), *out = fopen(to, "wbx");
        if (in == NULL || out == NULL)
            rc = tide_err_set(err, "cannot encrypt %s: %s", e->d_name, strerror(errno));
        else
            rc = tide_age_encrypt(in, out, keys, (size_t)a->nrecipients, err);
        if (in != NULL)
            fclose(in);
        if (out != NULL && fclose(out) != 0 && rc == 0)
            rc = tide_err_set(err, "cannot write %s: %s", to, strerror(errno));
    }
    closedir(d);
    return rc;
}

static void remove_sealed(const char *sealed)
{
    DIR *d = sealed[0] != '\0' ? opendir(sealed) : NULL;
    struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL) {
        char p[PATH_MAX + 256];
        snprintf(p, sizeof p, "%s/%s", sealed, e->d_name);
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            unlink(p);
    }
    if (d != NULL) {
        closedir(d);
        rmdir(sealed);
    }
}

static void read_run_id(const char *dir, char *out, size_t outlen)
{
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/summary.json", dir);
    char *text = tide_fs_read_all(path, NULL, NULL);
    cJSON *j = text != NULL ? cJSON_Parse(text) : NULL;
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItem(j, "run"), "id");
    if (cJSON_IsString(id)) {
        snprintf(out, outlen, "%s", id->valuestring);
    } else { /* the folder's name */
        const char *base = strrchr(dir, '/');
        snprintf(out, outlen, "%s", base != NULL && base[1] != '\0' ? base + 1 : dir);
    }
    cJSON_Delete(j);
    free(text);
}

int tide_export_main(int argc, char **argv)
{
    struct export_args a;
    struct tide_err err = {{0}};
    struct stat st;
    if (parse_args(argc, argv, &a) != 0)
        return TIDE_EXIT_USAGE;
    char manifest[PATH_MAX + 16];
    snprintf(manifest, sizeof manifest, "%s/manifest.json", a.dir);
    if (stat(a.dir, &st) != 0 || !S_ISDIR(st.st_mode) || stat(manifest, &st) != 0) {
        fprintf(stderr, "tide: export: %s is not a run folder (no manifest.json)\n", a.dir);
        return TIDE_EXIT_USAGE;
    }
    if (a.car != NULL && inside(a.dir, a.car)) {
        fprintf(stderr, "tide: export: %s is inside the run folder; write the CAR elsewhere\n",
                a.car);
        return TIDE_EXIT_USAGE;
    }
    if (tide_audit_verify_dir(a.dir, NULL, &err) != 0) {
        fprintf(stderr, "tide: export: %s fails its check, not exported: %s\n", a.dir, err.msg);
        return TIDE_EXIT_THRESHOLDS;
    }
    struct export_ctx c = {.args = &a};
    int rc = TIDE_EXIT_OK;
    read_run_id(a.dir, c.run_id, sizeof c.run_id);
    if (a.nrecipients > 0 && seal_folder(a.dir, &a, c.sealed, sizeof c.sealed, &err) != 0) {
        fprintf(stderr, "tide: export: %s\n", err.msg);
        rc = TIDE_EXIT_USAGE; /* a bad recipient; or nothing could be written */
        goto out;
    }
    if (tide_export_runs_folder(a.dir, c.runs_folder, sizeof c.runs_folder, &err) != 0 ||
        tide_dag_build(a.nrecipients > 0 ? c.sealed : a.dir, &c.dag, &err) != 0) {
        fprintf(stderr, "tide: export: %s\n", err.msg);
        rc = TIDE_EXIT_INTERNAL;
        goto out;
    }
    tide_cid_to_text(&c.dag.nodes[c.dag.root].cid, c.root);
    for (size_t k = 0; k < N_OF(export_dests) && rc == TIDE_EXIT_OK; k++) {
        const char *value = *field(&a, export_dests[k].field);
        int internal = 1;
        if (value != NULL && export_dests[k].run(&c, value, &internal, &err) != 0) {
            char *shown = tide_redact(err.msg);
            fprintf(stderr, "tide: export: %s\n", shown != NULL ? shown : "failed");
            free(shown);
            rc = exit_for(internal);
        }
    }
    if (rc == TIDE_EXIT_OK)
        printf("%s\n", c.root);
out:
    if (c.car_is_temp && c.car_path[0] != '\0')
        unlink(c.car_path);
    tide_dag_free(&c.dag);
    remove_sealed(c.sealed);
    return rc;
}

/* ---- verify and import ---- */

static bool is_regular_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

bool tide_verify_is_export(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--cid") == 0 || strncmp(argv[i], "--cid=", 6) == 0)
            return true;
    }
    return argc == 2 && is_regular_file(argv[1]);
}

/* Opens, hash-checks and link-checks a CAR; the exit code, with the failure printed. */
static int check_car(const char *path, struct tide_car *car, const char *cmd)
{
    struct tide_err err = {{0}};
    if (tide_car_open(path, car, &err) == 0 && tide_car_check_complete(car, &err) == 0)
        return TIDE_EXIT_OK;
    fprintf(stderr, "tide: %s %s: %s\n", cmd, path, err.msg);
    return car->f == NULL ? TIDE_EXIT_USAGE : TIDE_EXIT_THRESHOLDS;
}

/* Compares a folder's CID with 'want'; the exit code, with a difference printed. */
static int check_cid(const char *dir, const struct tide_cid *want, const char *cmd)
{
    struct tide_dag dag;
    struct tide_err err = {{0}};
    char got[TIDE_CID_TEXT], wanted[TIDE_CID_TEXT];
    int rc = TIDE_EXIT_OK;
    if (tide_dag_build(dir, &dag, &err) != 0) {
        fprintf(stderr, "tide: %s %s: %s\n", cmd, dir, err.msg);
        rc = TIDE_EXIT_INTERNAL;
    } else if (!tide_cid_equal(&dag.nodes[dag.root].cid, want)) {
        tide_cid_to_text(&dag.nodes[dag.root].cid, got);
        tide_cid_to_text(want, wanted);
        fprintf(stderr, "tide: %s %s: the folder's CID is %s, not %s (its content differs)\n", cmd,
                dir, got, wanted);
        rc = TIDE_EXIT_THRESHOLDS;
    }
    tide_dag_free(&dag);
    return rc;
}

/* A run folder (one with a manifest) is also checked as tide verify DIR does. */
static int check_run(const char *dir, const char *cmd, bool *checked)
{
    char manifest[PATH_MAX + 16];
    struct tide_err err = {{0}};
    snprintf(manifest, sizeof manifest, "%s/manifest.json", dir);
    *checked = is_regular_file(manifest);
    if (!*checked)
        return TIDE_EXIT_OK;
    if (tide_audit_verify_dir(dir, NULL, &err) != 0) {
        fprintf(stderr, "tide: %s %s: %s\n", cmd, dir, err.msg);
        return TIDE_EXIT_THRESHOLDS;
    }
    return TIDE_EXIT_OK;
}

int tide_verify_export_main(int argc, char **argv)
{
    const char *target = NULL, *cid_text = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--cid") == 0 && i + 1 < argc)
            cid_text = argv[++i];
        else if (strncmp(argv[i], "--cid=", 6) == 0)
            cid_text = argv[i] + 6;
        else if (argv[i][0] != '-' && target == NULL)
            target = argv[i];
        else
            target = NULL, i = argc; /* anything else: usage */
    }
    if (target == NULL || (cid_text == NULL && !is_regular_file(target))) {
        fprintf(stderr, "tide: usage: tide verify DIR [--cid CID] | tide verify FILE.car\n");
        return TIDE_EXIT_USAGE;
    }
    if (cid_text == NULL) {
        struct tide_car car;
        int rc = check_car(target, &car, "verify");
        if (rc == TIDE_EXIT_OK) {
            char root[TIDE_CID_TEXT];
            tide_cid_to_text(&car.roots[0], root);
            printf("%s: %llu blocks, every hash and link intact; root %s\n", target,
                   (unsigned long long)car.nblocks, root);
        }
        tide_car_close(&car);
        return rc;
    }
    struct tide_cid want;
    struct stat st;
    if (tide_cid_from_text(cid_text, &want) != 0) {
        fprintf(stderr, "tide: verify: %s is not a CIDv1 tide reads (base32, sha2-256)\n",
                cid_text);
        return TIDE_EXIT_USAGE;
    }
    if (stat(target, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "tide: verify: %s is not a folder\n", target);
        return TIDE_EXIT_USAGE;
    }
    bool run_folder;
    int rc = check_cid(target, &want, "verify");
    int run_rc = check_run(target, "verify", &run_folder); /* names the file that changed */
    if (rc == TIDE_EXIT_OK)
        rc = run_rc;
    if (rc == TIDE_EXIT_OK)
        printf("%s: CID %s%s\n", target, cid_text,
               run_folder ? ", manifest hashes and audit chain intact" : "");
    return rc;
}

int tide_import_main(int argc, char **argv)
{
    if (argc != 3 || argv[1][0] == '-' || argv[2][0] == '-') {
        fprintf(stderr, "tide: usage: tide import FILE.car DIR\n");
        return TIDE_EXIT_USAGE;
    }
    struct stat st;
    if (stat(argv[2], &st) == 0 && (!S_ISDIR(st.st_mode) || rmdir(argv[2]) != 0)) {
        fprintf(stderr, "tide: import: %s exists and is not an empty folder\n", argv[2]);
        return TIDE_EXIT_USAGE;
    }
    struct tide_car car;
    struct tide_err err = {{0}};
    int rc = check_car(argv[1], &car, "import");
    if (rc == TIDE_EXIT_OK && tide_fs_mkdirs(argv[2], &err) != 0) { /* parents too */
        fprintf(stderr, "tide: import: %s\n", err.msg);
        rc = TIDE_EXIT_INTERNAL;
    } else if (rc == TIDE_EXIT_OK && tide_car_unpack(&car, argv[2], &err) != 0) {
        fprintf(stderr, "tide: import %s: %s\n", argv[1], err.msg);
        rc = TIDE_EXIT_THRESHOLDS;
    }
    bool run_folder = false;
    if (rc == TIDE_EXIT_OK)
        rc = check_cid(argv[2], &car.roots[0], "import");
    if (rc == TIDE_EXIT_OK)
        rc = check_run(argv[2], "import", &run_folder);
    if (rc == TIDE_EXIT_OK) {
        char root[TIDE_CID_TEXT];
        tide_cid_to_text(&car.roots[0], root);
        printf("%s: imported %s%s\n", argv[2], root,
               run_folder ? "; manifest hashes and audit chain intact" : "");
    }
    tide_car_close(&car);
    return rc;
}
