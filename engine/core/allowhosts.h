/* allowhosts.h: the --allow-hosts guard (data residency): when a list is set, a request to a
 * host outside it is refused before anything is resolved or sent, redirects included
 * (core/http.c checks the URL of every request, and the URL being connected to, so a
 * redirect cannot lead elsewhere). Set once before the workers start; read-only afterwards. */
#ifndef TIDE_ALLOWHOSTS_H
#define TIDE_ALLOWHOSTS_H
#include <stdbool.h>
#include <stddef.h>
#include "err.h"

/* error_code of a request refused by --allow-hosts. */
#define TIDE_HTTP_ERR_HOST_NOT_ALLOWED 1420

/* "a.example.com,127.0.0.1,*.internal,[::1]": hosts (names or addresses, any port), a
 * leading "*." allowing every subdomain. NULL or "" clears the list. -1 with a message on an
 * empty or malformed entry. */
int tide_allow_hosts_set(const char *list, struct tide_err *err);
bool tide_allow_hosts_active(void);
/* Whether 'host' (as in a URL, brackets of an IPv6 address allowed) may be reached. */
bool tide_allow_hosts_permits(const char *host);
/* The host of an absolute http(s) URL into 'out' (lower case, no brackets, no port, no
 * userinfo); false when there is none. */
bool tide_allow_hosts_url_host(const char *url, char *out, size_t len);
/* Whether a connection to this address may be opened: it is an address of a listed host
 * (names are resolved when the list is set; "*." entries have no address). */
struct sockaddr;
bool tide_allow_hosts_permits_addr(const struct sockaddr *sa);
/* The address as text ("127.0.0.2"), for messages. */
void tide_allow_hosts_addr_text(const struct sockaddr *sa, char *out, size_t len);
/* The list as given ("" when none), for messages and the manifest. */
const char *tide_allow_hosts_list(void);

#endif
