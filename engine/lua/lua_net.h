/* lua_net.h: tide.net.send(url, data) for hooks: one message to a collector over TCP or UDP
 * ("tcp://host:port", "udp://host:port"), e.g. syslog for a SIEM (plugins/audit_forward.lua).
 * Only hooks can use it (the coordinator's lifecycle state, once the run folder exists): VUs
 * measure HTTP, they do not open raw sockets. Blocking, bounded: connect and send each give up
 * after TIDE_NET_TIMEOUT_MS. */
#ifndef TIDE_LUA_NET_H
#define TIDE_LUA_NET_H
#include <lua.h>

#define TIDE_NET_TIMEOUT_MS 3000
#define TIDE_NET_MAX_BYTES  (1 << 20)

/* Adds net_send to the tide.core table on top of L. */
void tide_net_register(lua_State *L);

#endif
