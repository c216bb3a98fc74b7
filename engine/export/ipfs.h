/* ipfs.h: pushing a CAR to an IPFS node through the Kubo RPC API (POST
 * /api/v0/dag/import?pin-roots=true, the CAR as a multipart file), and reading back the root
 * the node imported so the caller can compare it with its own. Only the URL the caller gives
 * is contacted: no default public node, no redirects followed, http and https only, proxies
 * bypassed for loopback. Bounded: 10 s to connect, TIDE_IPFS_TIMEOUT_S in all, a 1 MiB answer. */
#ifndef TIDE_IPFS_H
#define TIDE_IPFS_H
#include "cid.h"
#include "err.h"

#define TIDE_IPFS_DEFAULT_URL "http://127.0.0.1:5001"
enum { TIDE_IPFS_TIMEOUT_S = 300 };

/* 0 with the node's root in 'root', or -1 with a message (unreachable, an HTTP error, no or
 * several roots, a pin that failed). Needs curl_global_init done. */
int tide_ipfs_dag_import(const char *api_url, const char *car_path, struct tide_cid *root,
                         struct tide_err *err);

#endif
