/* prom_send.c: the remote-write sender thread (prom_send.h). */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <curl/curl.h>
#include "log.h"
#include "prom_send.h"

/* Per attempt: connecting must be quick on a loopback or LAN collector, the whole POST too. */
#define CONNECT_TIMEOUT_MS 1000
#define REQUEST_TIMEOUT_MS 3000
/* Retries of one push: back-off 250 ms, 500 ms, 1 s, 2 s (then the push is given up). */
#define RETRIES            4
#define BACKOFF_MS         250
#define REPLY_EXCERPT      160

struct push {
    struct push *next;
    size_t len;
    char body[];
};

struct tide_prom_sender {
    char *url;
    CURL *curl;
    struct curl_slist *headers;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct push *head, *tail;       /* guarded by mu */
    int queued;                     /* guarded by mu */
    bool closing;                   /* guarded by mu */
    struct timespec deadline;       /* when closing gives up; guarded by mu */
    struct tide_prom_send_stats st; /* dropped guarded by mu; sent/failed: the thread's */
    bool warned;                    /* the thread's: first failure reported */
    char reply[REPLY_EXCERPT + 1];  /* the thread's: start of the last reply body */
    size_t reply_len;
};

int tide_prom_check_url(const char *url, struct tide_err *err)
{
    CURLU *u = curl_url();
    if (u == NULL)
        return tide_err_set(err, "--stream prometheus: out of memory");
    char *scheme = NULL, *host = NULL, *password = NULL;
    int rc = 0;
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || host[0] == '\0' ||
        (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)) {
        rc = tide_err_set(err,
                          "--stream prometheus=%s: not an http:// or https:// URL with a host "
                          "(e.g. prometheus=http://127.0.0.1:9090/api/v1/write)",
                          url);
    } else if (curl_url_get(u, CURLUPART_PASSWORD, &password, 0) == CURLUE_OK) {
        tide_secret_add(password); /* basic auth in the URL: never printed nor written */
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(password);
    curl_url_cleanup(u);
    return rc;
}

static size_t keep_reply(char *data, size_t size, size_t n, void *arg)
{
    struct tide_prom_sender *s = arg;
    size_t len = size * n, room = REPLY_EXCERPT - s->reply_len;
    size_t take = len < room ? len : room;
    memcpy(s->reply + s->reply_len, data, take);
    s->reply_len += take;
    s->reply[s->reply_len] = '\0';
    return len;
}

static int64_t ms_until(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (int64_t)(t->tv_sec - now.tv_sec) * 1000 + (t->tv_nsec - now.tv_nsec) / 1000000;
}

static struct timespec after_ms(long ms)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_sec += ms / 1000;
    t.tv_nsec += (ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

/* Reply lines carry no newlines into the one-line warning. */
static void flatten(char *s)
{
    for (; *s != '\0'; s++) {
        if (*s == '\n' || *s == '\r')
            *s = ' ';
    }
}

enum outcome { SENT, RETRY, REFUSED };

/* One POST. 'budget_ms' caps its time when closing (<= 0: the normal timeout). */
static enum outcome post(struct tide_prom_sender *s, const struct push *p, int64_t budget_ms)
{
    long timeout = REQUEST_TIMEOUT_MS;
    if (budget_ms > 0 && budget_ms < timeout)
        timeout = (long)budget_ms;
    s->reply_len = 0;
    s->reply[0] = '\0';
    curl_easy_setopt(s->curl, CURLOPT_POSTFIELDS, (const void *)p->body);
    curl_easy_setopt(s->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)p->len);
    curl_easy_setopt(s->curl, CURLOPT_TIMEOUT_MS, timeout);
    CURLcode rc = curl_easy_perform(s->curl);
    long status = 0;
    if (rc == CURLE_OK)
        curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
    if (rc == CURLE_OK && status >= 200 && status < 300)
        return SENT;
    if (!s->warned) {
        s->warned = true;
        flatten(s->reply);
        if (rc != CURLE_OK)
            tide_log(TIDE_LOG_WARN,
                     "--stream prometheus: cannot push to %s: %s (retrying with back-off; "
                     "the run goes on)",
                     s->url, curl_easy_strerror(rc));
        else
            tide_log(TIDE_LOG_WARN, "--stream prometheus: %s answered %ld%s%s%s", s->url, status,
                     s->reply[0] ? " (" : "", s->reply, s->reply[0] ? ")" : "");
    }
    return rc == CURLE_OK && status >= 400 && status < 500 ? REFUSED : RETRY;
}

/* Sends one push, retrying with back-off; false when it was given up. */
static bool deliver(struct tide_prom_sender *s, const struct push *p)
{
    long backoff = BACKOFF_MS;
    for (int attempt = 0;; attempt++) {
        pthread_mutex_lock(&s->mu);
        bool closing = s->closing;
        int64_t left = closing ? ms_until(&s->deadline) : 0;
        pthread_mutex_unlock(&s->mu);
        if (closing && left <= 0)
            return false;
        enum outcome o = post(s, p, left);
        if (o == SENT)
            return true;
        if (o == REFUSED || attempt == RETRIES)
            return false;
        /* At the end of the run no more back-off: one immediate second try, so a hiccup is
         * survived but an endpoint that is down does not hold the exit for the whole flush. */
        pthread_mutex_lock(&s->mu);
        closing = s->closing;
        pthread_mutex_unlock(&s->mu);
        if (closing) {
            if (attempt >= 1)
                return false;
            continue;
        }
        /* back off; closing wakes the wait */
        pthread_mutex_lock(&s->mu);
        struct timespec until = after_ms(backoff);
        while (!s->closing && pthread_cond_timedwait(&s->cv, &s->mu, &until) == 0) {
            /* woken by a new push: keep waiting out the back-off */
        }
        pthread_mutex_unlock(&s->mu);
        backoff *= 2;
    }
}

static void *sender(void *arg)
{
    struct tide_prom_sender *s = arg;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (s->head == NULL && !s->closing)
            pthread_cond_wait(&s->cv, &s->mu);
        if (s->head == NULL || (s->closing && ms_until(&s->deadline) <= 0))
            break;
        struct push *p = s->head;
        s->head = p->next;
        if (s->head == NULL)
            s->tail = NULL;
        s->queued--;
        pthread_mutex_unlock(&s->mu);
        if (deliver(s, p))
            s->st.sent++;
        else
            s->st.failed++;
        free(p);
        pthread_mutex_lock(&s->mu);
    }
    /* the flush time is over: what is left is not sent */
    while (s->head != NULL) {
        struct push *p = s->head;
        s->head = p->next;
        s->st.dropped++;
        free(p);
    }
    s->tail = NULL;
    s->queued = 0;
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

struct tide_prom_sender *tide_prom_sender_open(const char *url, struct tide_err *err)
{
    struct tide_prom_sender *s = calloc(1, sizeof *s);
    if (s == NULL || (s->url = strdup(url)) == NULL || (s->curl = curl_easy_init()) == NULL) {
        tide_err_set(err, "--stream prometheus: out of memory");
        goto fail;
    }
    static const char *const headers[] = {
        "Content-Encoding: snappy",
        "Content-Type: application/x-protobuf",
        "X-Prometheus-Remote-Write-Version: 0.1.0",
        "User-Agent: tide",
        "Expect:", /* no 100-continue round trip */
    };
    for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
        struct curl_slist *h = curl_slist_append(s->headers, headers[i]);
        if (h == NULL) {
            tide_err_set(err, "--stream prometheus: out of memory");
            goto fail;
        }
        s->headers = h;
    }
    curl_easy_setopt(s->curl, CURLOPT_URL, url);
    curl_easy_setopt(s->curl, CURLOPT_HTTPHEADER, s->headers);
    curl_easy_setopt(s->curl, CURLOPT_POST, 1L);
    curl_easy_setopt(s->curl, CURLOPT_NOSIGNAL, 1L); /* a thread: no SIGALRM for timeouts */
    curl_easy_setopt(s->curl, CURLOPT_PROXY, "");    /* like every request: no proxy from the env */
    curl_easy_setopt(s->curl, CURLOPT_CONNECTTIMEOUT_MS, (long)CONNECT_TIMEOUT_MS);
    curl_easy_setopt(s->curl, CURLOPT_WRITEFUNCTION, keep_reply);
    curl_easy_setopt(s->curl, CURLOPT_WRITEDATA, s);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    if (pthread_create(&s->thread, NULL, sender, s) != 0) {
        tide_err_set(err, "--stream prometheus: cannot start its sender thread");
        pthread_mutex_destroy(&s->mu);
        pthread_cond_destroy(&s->cv);
        goto fail;
    }
    return s;
fail:
    if (s != NULL) {
        curl_slist_free_all(s->headers);
        if (s->curl != NULL)
            curl_easy_cleanup(s->curl);
        free(s->url);
        free(s);
    }
    return NULL;
}

void tide_prom_send(struct tide_prom_sender *s, const void *body, size_t len)
{
    if (s == NULL)
        return;
    struct push *p = malloc(sizeof *p + len);
    pthread_mutex_lock(&s->mu);
    if (p == NULL) {
        s->st.dropped++;
        pthread_mutex_unlock(&s->mu);
        return;
    }
    memcpy(p->body, body, len);
    p->len = len;
    p->next = NULL;
    while (s->head != NULL && s->queued >= TIDE_PROM_QUEUE_PUSHES) {
        struct push *old = s->head; /* bounded: the oldest waiting push makes room */
        s->head = old->next;
        if (s->head == NULL)
            s->tail = NULL;
        s->queued--;
        s->st.dropped++;
        free(old);
    }
    if (s->tail != NULL)
        s->tail->next = p;
    else
        s->head = p;
    s->tail = p;
    s->queued++;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

void tide_prom_sender_close(struct tide_prom_sender *s, int flush_ms,
                            struct tide_prom_send_stats *st)
{
    if (s == NULL)
        return;
    pthread_mutex_lock(&s->mu);
    s->closing = true;
    s->deadline = after_ms(flush_ms);
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    if (st != NULL)
        *st = s->st;
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    curl_slist_free_all(s->headers);
    curl_easy_cleanup(s->curl);
    free(s->url);
    free(s);
}
