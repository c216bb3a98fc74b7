/* log.c: terminal messages and secret redaction. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cJSON.h>
#include "log.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char **secrets;
static size_t nsecrets;
static bool quiet;

void tide_log_set_quiet(bool q)
{
    quiet = q;
}

void tide_secret_add(const char *value)
{
    if (value == NULL || strlen(value) < 3)
        return;
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < nsecrets; i++) {
        if (strcmp(secrets[i], value) == 0) {
            pthread_mutex_unlock(&lock);
            return;
        }
    }
    char **grown = realloc(secrets, (nsecrets + 1) * sizeof *secrets);
    if (grown != NULL) {
        secrets = grown;
        secrets[nsecrets] = strdup(value);
        if (secrets[nsecrets] != NULL)
            nsecrets++;
    }
    pthread_mutex_unlock(&lock);
}

void tide_secrets_clear(void)
{
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < nsecrets; i++)
        free(secrets[i]);
    free(secrets);
    secrets = NULL;
    nsecrets = 0;
    pthread_mutex_unlock(&lock);
}

/* Replaces every occurrence of 'secret' in 's' (malloc'd) by "***"; returns the new string. */
static char *replace_all(char *s, const char *secret)
{
    size_t slen = strlen(secret);
    char *hit = strstr(s, secret);
    if (hit == NULL)
        return s;
    size_t cap = strlen(s) + 1;
    char *out = malloc(cap + 3);
    if (out == NULL)
        return s;
    size_t o = 0;
    const char *p = s;
    while (hit != NULL) {
        memcpy(out + o, p, (size_t)(hit - p));
        o += (size_t)(hit - p);
        memcpy(out + o, "***", 3);
        o += 3;
        p = hit + slen;
        hit = strstr(p, secret);
    }
    strcpy(out + o, p);
    free(s);
    return out;
}

char *tide_redact(const char *s)
{
    char *out = strdup(s != NULL ? s : "");
    if (out == NULL)
        return NULL;
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < nsecrets; i++)
        out = replace_all(out, secrets[i]);
    pthread_mutex_unlock(&lock);
    return out;
}

void tide_redact_buf(char *buf, size_t len)
{
    if (nsecrets == 0)
        return;
    char *r = tide_redact(buf);
    if (r == NULL)
        return;
    snprintf(buf, len, "%s", r);
    free(r);
}

void tide_redact_json(cJSON *j)
{
    if (j == NULL || nsecrets == 0)
        return;
    for (cJSON *c = j; c != NULL; c = c->next) {
        if (cJSON_IsString(c) && c->valuestring != NULL) {
            char *r = tide_redact(c->valuestring);
            if (r != NULL && strcmp(r, c->valuestring) != 0)
                cJSON_SetValuestring(c, r);
            free(r);
        }
        if (c->string != NULL && !(c->type & cJSON_StringIsConst)) {
            char *r = tide_redact(c->string);
            if (r != NULL && strcmp(r, c->string) != 0) {
                free(c->string);
                c->string = r;
                r = NULL;
            }
            free(r);
        }
        if (c->child != NULL)
            tide_redact_json(c->child);
    }
}

void tide_log(enum tide_log_level level, const char *fmt, ...)
{
    if (quiet && level < TIDE_LOG_WARN)
        return;
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    tide_redact_buf(buf, sizeof buf);
    static const char *prefix[] = {"debug: ", "", "warning: ", ""};
    fprintf(stderr, "tide: %s%s\n", prefix[level], buf);
}
