/* connbudget.h: how many connections a worker may hold under the open-file limit
 * (worker->conn_budget; 0: unlimited), and the queue of VUs waiting for one. */
#ifndef TIDE_CONNBUDGET_H
#define TIDE_CONNBUDGET_H
#include <stdbool.h>

struct tide_vu;
struct tide_worker;

/* Sets up vu->req for its next request: a kept connection, or a one-use one. Returns false
 * when no descriptor is free: the VU is queued and tide_conn_release starts its request. */
bool tide_conn_admit(struct tide_vu *vu);
/* A one-use connection closed: starts queued requests while there is room. */
void tide_conn_release(struct tide_worker *w);
/* A VU is going away (interrupted or freed): gives back its place and leaves the queue. */
void tide_conn_forget(struct tide_vu *vu);

#endif
