/* bench/curlfloor.c: the floor under tide's HTTP path. The same plumbing as tide (libev +
 * libcurl multi_socket, one easy handle per "VU", re-added after each response) with nothing
 * else: no Lua, no metrics, no response object. Its req/s is what libcurl + libev allow on one
 * core, i.e. the ceiling tide can approach by trimming its own code.
 *
 *   cc -O2 -o curlfloor bench/curlfloor.c -lcurl -lev
 *   ./curlfloor URL CONNECTIONS SECONDS [cookies] [timeout] [share]
 *
 * The optional words turn on what tide sets on every handle, to price each one:
 *   cookies  CURLOPT_COOKIEFILE "" (the cookie engine)
 *   timeout  CURLOPT_TIMEOUT_MS 60000 (a timer armed and disarmed per request)
 *   share    a CURLSH shared by the handles (DNS cache)
 *   seturl   CURLOPT_URL set again before every request (tide does, even when unchanged)
 *   curlu    the URL given once as a parsed CURLU handle (CURLOPT_CURLU), not as a string
 *   http11   CURLOPT_HTTP_VERSION 1.1
 * Prints one line: requests, seconds, req/s, errors. */
#include <curl/curl.h>
#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sock {
    ev_io io;
    curl_socket_t fd;
};

static struct ev_loop *loop;
static CURLM *multi;
static ev_timer timer, stop_timer;
static long done_count, errors;
static int stopping, seturl;
static CURLU *curlu;
static const char *url;

static size_t discard(char *p, size_t s, size_t n, void *u)
{
    (void)p;
    (void)u;
    return s * n;
}

static void check_done(void)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(multi, &left)) != NULL) {
        if (m->msg != CURLMSG_DONE)
            continue;
        CURL *e = m->easy_handle;
        if (m->data.result != CURLE_OK)
            errors++;
        done_count++;
        curl_multi_remove_handle(multi, e);
        if (!stopping) {
            if (seturl && curlu)
                curl_easy_setopt(e, CURLOPT_CURLU, curlu);
            else if (seturl)
                curl_easy_setopt(e, CURLOPT_URL, url);
            curl_multi_add_handle(multi, e);
        }
    }
}

static void on_io(struct ev_loop *l, ev_io *w, int revents)
{
    (void)l;
    struct sock *s = (struct sock *)w;
    int running, action = ((revents & EV_READ) ? CURL_CSELECT_IN : 0) |
                          ((revents & EV_WRITE) ? CURL_CSELECT_OUT : 0);
    curl_multi_socket_action(multi, s->fd, action, &running);
    check_done();
}

static void on_timer(struct ev_loop *l, ev_timer *w, int revents)
{
    (void)l;
    (void)w;
    (void)revents;
    int running;
    curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done();
}

static int on_socket(CURL *e, curl_socket_t fd, int what, void *u, void *sp)
{
    (void)e;
    (void)u;
    struct sock *s = sp;
    if (what == CURL_POLL_REMOVE) {
        if (s) {
            ev_io_stop(loop, &s->io);
            curl_multi_assign(multi, fd, NULL);
            free(s);
        }
        return 0;
    }
    int ev = ((what & CURL_POLL_IN) ? EV_READ : 0) | ((what & CURL_POLL_OUT) ? EV_WRITE : 0);
    if (s == NULL) {
        s = calloc(1, sizeof *s);
        s->fd = fd;
        ev_io_init(&s->io, on_io, fd, ev);
        curl_multi_assign(multi, fd, s);
    } else {
        ev_io_stop(loop, &s->io);
        ev_io_set(&s->io, fd, ev);
    }
    ev_io_start(loop, &s->io);
    return 0;
}

static int on_timeout(CURLM *m, long ms, void *u)
{
    (void)m;
    (void)u;
    ev_timer_stop(loop, &timer);
    if (ms >= 0) {
        ev_timer_set(&timer, (double)ms / 1000.0, 0.);
        ev_timer_start(loop, &timer);
    }
    return 0;
}

static void on_stop(struct ev_loop *l, ev_timer *w, int revents)
{
    (void)w;
    (void)revents;
    stopping = 1;
    ev_break(l, EVBREAK_ALL);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s URL CONNECTIONS SECONDS [cookies] [timeout] [share] [seturl] [curlu] [http11]\n",
                argv[0]);
        return 2;
    }
    url = argv[1];
    int n = atoi(argv[2]);
    double secs = atof(argv[3]);
    int cookies = 0, timeout = 0, share = 0, use_curlu = 0, http11 = 0;
    for (int i = 4; i < argc; i++) {
        cookies |= strcmp(argv[i], "cookies") == 0;
        timeout |= strcmp(argv[i], "timeout") == 0;
        share |= strcmp(argv[i], "share") == 0;
        seturl |= strcmp(argv[i], "seturl") == 0;
        use_curlu |= strcmp(argv[i], "curlu") == 0;
        http11 |= strcmp(argv[i], "http11") == 0;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    loop = EV_DEFAULT;
    multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, on_timeout);
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long)(n < 16 ? 16 : n));
    ev_timer_init(&timer, on_timer, 0., 0.);
    CURLSH *sh = NULL;
    if (share) {
        sh = curl_share_init();
        curl_share_setopt(sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    }
    for (int i = 0; i < n; i++) {
        CURL *e = curl_easy_init();
        if (use_curlu) {
            if (curlu == NULL) {
                curlu = curl_url();
                curl_url_set(curlu, CURLUPART_URL, url, 0);
            }
            curl_easy_setopt(e, CURLOPT_CURLU, curlu);
        } else {
            curl_easy_setopt(e, CURLOPT_URL, url);
        }
        if (http11)
            curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_PROXY, "");
        curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
        if (cookies)
            curl_easy_setopt(e, CURLOPT_COOKIEFILE, "");
        if (timeout)
            curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 60000L);
        if (sh)
            curl_easy_setopt(e, CURLOPT_SHARE, sh);
        curl_multi_add_handle(multi, e);
    }
    ev_timer_init(&stop_timer, on_stop, secs, 0.);
    ev_timer_start(loop, &stop_timer);
    double t0 = ev_time();
    ev_run(loop, 0);
    double el = ev_time() - t0;
    printf("requests %ld seconds %.2f req/s %.0f errors %ld\n", done_count, el,
           done_count / el, errors);
    return 0;
}
