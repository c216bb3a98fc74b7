/* loaded.c: a mutex-guarded list of the files a run read (see loaded.h). */
#include <openssl/sha.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cJSON.h>
#include "loaded.h"

struct loaded_file {
    char kind[8];
    char sha256[65];
    char *path;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct loaded_file *files;
static size_t nfiles, capfiles;

void tide_loaded_add(const char *kind, const char *path, const void *data, size_t len)
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    char hex[65];
    SHA256(data, len, md);
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < nfiles; i++) {
        if (strcmp(files[i].path, path) == 0 && strcmp(files[i].sha256, hex) == 0 &&
            strcmp(files[i].kind, kind) == 0) {
            pthread_mutex_unlock(&lock);
            return;
        }
    }
    if (nfiles == capfiles) {
        size_t cap = capfiles ? capfiles * 2 : 16;
        struct loaded_file *g = realloc(files, cap * sizeof *g);
        if (g == NULL) {
            pthread_mutex_unlock(&lock);
            return;
        }
        files = g;
        capfiles = cap;
    }
    struct loaded_file *f = &files[nfiles];
    f->path = strdup(path);
    if (f->path != NULL) {
        snprintf(f->kind, sizeof f->kind, "%s", kind);
        memcpy(f->sha256, hex, sizeof hex);
        nfiles++;
    }
    pthread_mutex_unlock(&lock);
}

cJSON *tide_loaded_json(void)
{
    cJSON *a = cJSON_CreateArray();
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < nfiles; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "kind", files[i].kind);
        cJSON_AddStringToObject(o, "path", files[i].path);
        cJSON_AddStringToObject(o, "sha256", files[i].sha256);
        cJSON_AddItemToArray(a, o);
    }
    pthread_mutex_unlock(&lock);
    return a;
}

void tide_loaded_clear(void)
{
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < nfiles; i++)
        free(files[i].path);
    free(files);
    files = NULL;
    nfiles = capfiles = 0;
    pthread_mutex_unlock(&lock);
}
