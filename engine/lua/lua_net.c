/* lua_net.c: one message over TCP or UDP, for hooks. */
#include <errno.h>
#include <fcntl.h>
#include <lauxlib.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "lua_net.h"

/* "tcp://host:port" or "udp://host:port" ([v6] accepted) into its parts; false when not. */
static bool parse_url(const char *url, bool *tcp, char *host, size_t hlen, char *port, size_t plen)
{
    if (strncmp(url, "tcp://", 6) == 0)
        *tcp = true;
    else if (strncmp(url, "udp://", 6) == 0)
        *tcp = false;
    else
        return false;
    const char *h = url + 6, *colon;
    if (*h == '[') {
        const char *end = strchr(h, ']');
        if (end == NULL || end[1] != ':')
            return false;
        snprintf(host, hlen, "%.*s", (int)(end - h - 1), h + 1);
        colon = end + 1;
    } else {
        colon = strrchr(h, ':');
        if (colon == NULL)
            return false;
        snprintf(host, hlen, "%.*s", (int)(colon - h), h);
    }
    snprintf(port, plen, "%s", colon + 1);
    return host[0] != '\0' && port[0] != '\0' && strspn(port, "0123456789") == strlen(port);
}

static int wait_fd(int fd, short events)
{
    struct pollfd p = {fd, events, 0};
    int n;
    do
        n = poll(&p, 1, TIDE_NET_TIMEOUT_MS);
    while (n < 0 && errno == EINTR);
    return n;
}

/* Sends data to the first address that takes it; NULL or an error text. */
static const char *send_to(bool tcp, const char *host, const char *port, const char *data,
                           size_t len)
{
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_socktype = tcp ? SOCK_STREAM : SOCK_DGRAM;
    if (getaddrinfo(host, port, &hints, &res) != 0 || res == NULL)
        return "cannot resolve the host";
    const char *why = "cannot connect";
    for (struct addrinfo *a = res; a != NULL; a = a->ai_next) {
        int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
            continue;
        int rc = connect(fd, a->ai_addr, a->ai_addrlen);
        if (rc != 0 && errno == EINPROGRESS && wait_fd(fd, POLLOUT) == 1) {
            int soerr = 0;
            socklen_t sl = sizeof soerr;
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
            rc = soerr == 0 ? 0 : -1;
        }
        if (rc != 0) {
            close(fd);
            continue;
        }
        size_t off = 0;
        why = NULL;
        while (off < len) {
            ssize_t n = send(fd, data + off, len - off, MSG_NOSIGNAL);
            if (n > 0) {
                off += (size_t)n;
            } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
                if (wait_fd(fd, POLLOUT) != 1) {
                    why = "send timed out";
                    break;
                }
            } else {
                why = tcp ? "connection closed while sending" : "send failed";
                break;
            }
        }
        close(fd);
        break;
    }
    freeaddrinfo(res);
    return why;
}

/* core.net_send(url, data): true, or raises "tide.net.send: URL: why". */
static int l_net_send(lua_State *L)
{
    const char *url = luaL_checkstring(L, 1);
    size_t len;
    const char *data = luaL_checklstring(L, 2, &len);
    lua_getfield(L, LUA_REGISTRYINDEX, "tide.run_dir");
    bool in_hook = !lua_isnil(L, -1);
    lua_pop(L, 1);
    if (!in_hook)
        return luaL_error(L, "tide.net.send: only hooks can send (test_start ... report_written)");
    char host[256], port[16];
    bool tcp;
    if (!parse_url(url, &tcp, host, sizeof host, port, sizeof port))
        return luaL_error(L, "tide.net.send: expected tcp://host:port or udp://host:port");
    if (len > TIDE_NET_MAX_BYTES || (!tcp && len > 65000))
        return luaL_error(L, "tide.net.send: message too large (%d bytes)", (int)len);
    const char *why = send_to(tcp, host, port, data, len);
    if (why != NULL)
        return luaL_error(L, "tide.net.send: %s:%s: %s", host, port, why);
    lua_pushboolean(L, 1);
    return 1;
}

void tide_net_register(lua_State *L)
{
    lua_pushcfunction(L, l_net_send);
    lua_setfield(L, -2, "net_send");
}
