/* session.h: what one VU keeps between its requests (transport.c makes and frees it): its
 * cookie jar, which both transports read and fill, and one part per transport: libcurl's share
 * (connections, DNS) and the native client's idle keep-alive connections. Internal to core. */
#ifndef TIDE_SESSION_H
#define TIDE_SESSION_H

struct tide_cookiejar;
struct tide_curl_session;
struct tide_native_session;

struct tide_session {
    struct tide_curl_session *curl;     /* made on the first libcurl request */
    struct tide_native_session *native; /* made on the first native request */
    struct tide_cookiejar *jar;         /* the VU's cookies (cookiejar.h), made with it */
};

#endif
