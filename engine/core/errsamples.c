/* errsamples.c: sampled error bodies (errsamples.h). */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <cJSON.h>
#include "errsamples.h"
#include "log.h"
#include "privacy.h"
#include "utf8.h"

struct errclass {
    char *method, *name, *error;
    char *samples[TIDE_ERRSAMPLES_PER_CLASS];
    int nsamples;
    unsigned long long offered;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct errclass classes[TIDE_ERRSAMPLE_CLASSES];
static int nclasses;

/* The body as it may be kept: twice the kept length is redacted and filtered (a buffer that
 * full is taken as cut: a secret starting at its end is hidden too), then cut to the kept
 * length at a character boundary, well before anything the first cut could have split. */
static char *clean_sample(const char *body, size_t len)
{
    char raw[2 * TIDE_ERRSAMPLE_BYTES + 1];
    size_t n = len < sizeof raw - 1 ? len : sizeof raw - 1;
    memcpy(raw, body, n);
    raw[n] = '\0';
    for (size_t i = 0; i < n; i++)
        if (raw[i] == '\0')
            raw[i] = ' '; /* binary: a NUL would end the text early */
    char *f = tide_redact(raw);
    if (f == NULL)
        return NULL;
    size_t fl = strlen(f);
    if (fl > TIDE_ERRSAMPLE_BYTES) {
        fl = TIDE_ERRSAMPLE_BYTES;
        while (fl > 0 && ((unsigned char)f[fl] & 0xC0) == 0x80)
            fl--; /* not inside a UTF-8 sequence */
        f[fl] = '\0';
    }
    if (tide_utf8_count(f, fl) < 0) {
        for (size_t i = 0; i < fl; i++)
            if ((unsigned char)f[i] >= 0x80)
                f[i] = '?';
    }
    return f;
}

static bool same(const char *a, const char *b)
{
    return strcmp(a != NULL ? a : "", b != NULL ? b : "") == 0;
}

void tide_errsamples_offer(const char *method, const char *name, const char *error,
                           const char *body, size_t len)
{
    if (!tide_privacy_samples() || body == NULL || len == 0)
        return;
    pthread_mutex_lock(&lock);
    struct errclass *c = NULL;
    for (int i = 0; i < nclasses && c == NULL; i++)
        if (same(classes[i].method, method) && same(classes[i].name, name) &&
            same(classes[i].error, error))
            c = &classes[i];
    if (c == NULL && nclasses < TIDE_ERRSAMPLE_CLASSES) {
        c = &classes[nclasses];
        c->method = strdup(method != NULL ? method : "");
        c->name = strdup(name != NULL ? name : "");
        c->error = strdup(error != NULL ? error : "");
        if (c->method == NULL || c->name == NULL || c->error == NULL) {
            free(c->method);
            free(c->name);
            free(c->error);
            memset(c, 0, sizeof *c);
            c = NULL;
        } else {
            nclasses++;
        }
    }
    if (c != NULL) {
        c->offered++;
        if (c->nsamples < TIDE_ERRSAMPLES_PER_CLASS) {
            char *s = clean_sample(body, len);
            if (s != NULL)
                c->samples[c->nsamples++] = s;
        }
    }
    pthread_mutex_unlock(&lock);
}

cJSON *tide_errsamples_json(void)
{
    pthread_mutex_lock(&lock);
    cJSON *a = nclasses > 0 ? cJSON_CreateArray() : NULL;
    for (int i = 0; a != NULL && i < nclasses; i++) {
        struct errclass *c = &classes[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "method", c->method);
        cJSON_AddStringToObject(o, "name", c->name);
        cJSON_AddStringToObject(o, "error", c->error);
        cJSON_AddNumberToObject(o, "count", (double)c->offered);
        cJSON *s = cJSON_AddArrayToObject(o, "samples");
        for (int k = 0; k < c->nsamples; k++)
            cJSON_AddItemToArray(s, cJSON_CreateString(c->samples[k]));
        cJSON_AddItemToArray(a, o);
    }
    pthread_mutex_unlock(&lock);
    return a;
}

void tide_errsamples_clear(void)
{
    pthread_mutex_lock(&lock);
    for (int i = 0; i < nclasses; i++) {
        free(classes[i].method);
        free(classes[i].name);
        free(classes[i].error);
        for (int k = 0; k < classes[i].nsamples; k++)
            free(classes[i].samples[k]);
    }
    memset(classes, 0, sizeof classes);
    nclasses = 0;
    pthread_mutex_unlock(&lock);
}
