/* connbudget.c: the worker's connection budget under the open-file limit. VUs keep their
 * keep-alive connection while there is room (90% of the budget); beyond it a request uses a
 * connection closed after use (with RST, so no TIME_WAIT pile-up), and waits in a FIFO when
 * every descriptor of the budget is in use. */
#include "connbudget.h"
#include "vu.h"
#include "worker.h"

static bool admit(struct tide_vu *vu)
{
    struct tide_worker *w = vu->w;
    if (w->conn_budget == 0)
        return true;
    struct tide_http_spec *spec = &vu->req->r.spec; /* admitted after l_request made it */
    vu->transient = false;
    if (!vu->holds_conn && w->conns_kept < w->conn_budget * 9 / 10) {
        vu->holds_conn = true; /* it opens one connection and keeps it */
        w->conns_kept++;
    }
    spec->one_use = false;
    if (vu->holds_conn)
        return true;
    if (w->conns_kept + w->conns_transient >= w->conn_budget)
        return false;
    w->conns_transient++;
    vu->transient = true;
    spec->one_use = true;
    return true;
}

static void conn_dequeue(struct tide_worker *w, struct tide_vu *vu)
{
    if (vu->conn_prev != NULL)
        vu->conn_prev->conn_next = vu->conn_next;
    else
        w->conn_waiters = vu->conn_next;
    if (vu->conn_next != NULL)
        vu->conn_next->conn_prev = vu->conn_prev;
    else
        w->conn_waiters_last = vu->conn_prev;
    vu->conn_next = vu->conn_prev = NULL;
    vu->conn_waiting = false;
}

/* A transient connection closed: start waiting requests while there is room. */
void tide_conn_release(struct tide_worker *w)
{
    while (w->conn_waiters != NULL && w->conns_kept + w->conns_transient < w->conn_budget) {
        struct tide_vu *vu = w->conn_waiters;
        conn_dequeue(w, vu);
        admit(vu);
        if (tide_http_start(w->http, &vu->req->r) != 0)
            vu->req->r.done(&vu->req->r); /* it ended at once, with the error in its result */
    }
}

void tide_conn_forget(struct tide_vu *vu)
{
    struct tide_worker *w = vu->w;
    if (vu->conn_waiting)
        conn_dequeue(w, vu);
    if (vu->transient) {
        vu->transient = false;
        w->conns_transient--;
    }
    if (vu->holds_conn) {
        vu->holds_conn = false;
        w->conns_kept--;
    }
}

bool tide_conn_admit(struct tide_vu *vu)
{
    struct tide_worker *w = vu->w;
    if (admit(vu))
        return true;
    vu->conn_waiting = true;
    vu->conn_prev = w->conn_waiters_last;
    vu->conn_next = NULL;
    if (w->conn_waiters_last != NULL)
        w->conn_waiters_last->conn_next = vu;
    else
        w->conn_waiters = vu;
    w->conn_waiters_last = vu;
    return false;
}
