/* session.h: what one VU keeps between its requests, one part per transport (transport.c
 * makes and frees it): libcurl's share (connections, cookies, DNS) and the native client's
 * idle keep-alive connections. Internal to core. */
#ifndef TIDE_SESSION_H
#define TIDE_SESSION_H

struct tide_curl_session;
struct tide_native_session;

struct tide_session {
    struct tide_curl_session *curl;     /* made on the first libcurl request */
    struct tide_native_session *native; /* made on the first native request */
    /* A response set a cookie. Until tide's own jar serves both transports, libcurl's jar
     * holds a VU's cookies (the native client hands it the Set-Cookie lines it receives),
     * so auto sends such a VU's later requests to libcurl, which sends them. */
    bool has_cookies;
};

#endif
