/* log.c: terminal messages and secret redaction. */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cJSON.h>
#include "log.h"
#include "privacy.h"

#define LOG_LINE_MAX 2047 /* bytes of one message printed */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char **secrets;
static size_t nsecrets;
static bool quiet;
static enum tide_log_level min_level = TIDE_LOG_DEBUG;
static atomic_size_t nsecrets_seen; /* nsecrets, for a test without the lock */

void tide_log_set_quiet(bool q)
{
    quiet = q;
}

void tide_log_set_level(enum tide_log_level min)
{
    min_level = min;
}

bool tide_log_enabled(enum tide_log_level level)
{
    return level >= min_level && !(quiet && level < TIDE_LOG_WARN);
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
            atomic_store(&nsecrets_seen, ++nsecrets);
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
    atomic_store(&nsecrets_seen, 0);
    pthread_mutex_unlock(&lock);
}

static bool have_secrets(void)
{
    return atomic_load(&nsecrets_seen) > 0;
}

bool tide_redact_changes(const char *s)
{
    if (s == NULL)
        return false;
    if (have_secrets()) {
        pthread_mutex_lock(&lock);
        bool hit = false;
        for (size_t i = 0; i < nsecrets && !hit; i++)
            hit = strstr(s, secrets[i]) != NULL;
        pthread_mutex_unlock(&lock);
        if (hit)
            return true;
    }
    return tide_privacy_may_match(s);
}

/* Marks in 'hide' every byte of s inside an occurrence of a secret, overlapping occurrences
 * included (secrets "abcd" and "cdef" in "abcdef" hide all six bytes: replacing one secret
 * after the other would leave "ef" of the second). The caller holds the lock. */
static bool mark_secrets(const char *s, bool *hide)
{
    bool any = false;
    for (size_t i = 0; i < nsecrets; i++) {
        size_t len = strlen(secrets[i]);
        for (const char *hit = strstr(s, secrets[i]); hit != NULL;
             hit = strstr(hit + 1, secrets[i])) {
            memset(hide + (hit - s), 1, len);
            any = true;
        }
    }
    return any;
}

/* Secrets only: the first step of tide_redact. */
static char *redact_secrets(const char *s)
{
    if (s == NULL)
        s = "";
    size_t n = strlen(s);
    bool *hide = calloc(n + 1, sizeof *hide);
    if (hide == NULL)
        return NULL;
    pthread_mutex_lock(&lock);
    bool any = mark_secrets(s, hide);
    pthread_mutex_unlock(&lock);
    /* each hidden run covers a whole secret (3 bytes or more): "***" never lengthens it */
    char *out = malloc(n + 1);
    if (out != NULL && !any)
        memcpy(out, s, n + 1);
    if (out != NULL && any) {
        size_t o = 0;
        for (size_t i = 0; i < n;) {
            if (!hide[i]) {
                out[o++] = s[i++];
                continue;
            }
            memcpy(out + o, "***", 3);
            o += 3;
            while (i < n && hide[i])
                i++;
        }
        out[o] = '\0';
    }
    free(hide);
    return out;
}

char *tide_redact(const char *s)
{
    char *r = redact_secrets(s);
    if (r == NULL || !tide_privacy_may_match(r))
        return r;
    char *f = tide_privacy_filter(r);
    free(r);
    return f;
}

/* A full buffer was probably cut by its writer: a secret cut there is no longer found whole,
 * so a tail that starts a secret (its first bytes, up to all but one) is hidden as well. */
static void hide_cut_secret(char *buf, size_t len)
{
    size_t n = strlen(buf), cut = 0;
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < nsecrets; i++) {
        size_t sl = strlen(secrets[i]);
        for (size_t k = sl - 1 < n ? sl - 1 : n; k > cut; k--) {
            if (memcmp(buf + n - k, secrets[i], k) == 0) {
                cut = k;
                break;
            }
        }
    }
    pthread_mutex_unlock(&lock);
    if (cut == 0 || len < 4)
        return;
    size_t at = n - cut;
    if (at + 3 > len - 1)
        at = len - 1 - 3;
    memcpy(buf + at, "***", 4);
}

void tide_redact_buf(char *buf, size_t len)
{
    if (len == 0)
        return;
    if (have_secrets()) {
        bool full = strnlen(buf, len) + 1 >= len;
        char *r = redact_secrets(buf);
        if (r == NULL)
            return;
        snprintf(buf, len, "%s", r);
        free(r);
        if (full)
            hide_cut_secret(buf, len);
    }
    tide_privacy_filter_buf(buf, len); /* after: a cut pseudonym hides as much as a whole one */
}

void tide_redact_json(cJSON *j)
{
    if (j == NULL || (!have_secrets() && !tide_privacy_enabled()))
        return;
    for (cJSON *c = j; c != NULL; c = c->next) {
        if (cJSON_IsString(c) && c->valuestring != NULL) {
            char *r = tide_redact(c->valuestring);
            if (r != NULL && c->string != NULL) {
                /* {"password": "..."}: the name says what the value is, whatever it is */
                char *f = tide_privacy_filter_value(c->string, r);
                free(r);
                r = f;
            }
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
    if (!tide_log_enabled(level))
        return;
    /* the whole message is redacted before it is cut to the line's length: a secret across
     * the cut would otherwise be printed in part */
    va_list ap, again;
    va_start(ap, fmt);
    va_copy(again, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    char *msg = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (msg != NULL)
        vsnprintf(msg, (size_t)n + 1, fmt, again);
    va_end(again);
    va_end(ap);
    char *red = msg != NULL ? tide_redact(msg) : NULL;
    free(msg);
    if (red == NULL)
        return;
    static const char *prefix[] = {"debug: ", "", "warning: ", ""};
    fprintf(stderr, "tide: %s%.*s\n", prefix[level], LOG_LINE_MAX, red);
    free(red);
}
