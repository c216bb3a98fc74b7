/* lua_cookies.h: the cookie side of `tide.http`: http.cookie_jar(), the VU's own jar
 * (core/cookiejar.h) with cookies_for_url, set, delete and clear, and res.cookies, what a
 * response set. Kept apart from lua_http.c's request path. */
#ifndef TIDE_LUA_COOKIES_H
#define TIDE_LUA_COOKIES_H
#include <lua.h>
#include <stddef.h>

/* http.cookie_jar() */
int tide_lua_cookie_jar(lua_State *L);
/* Registers the jar's metatable; called once by luaopen_tide_http. */
void tide_lua_cookies_open(lua_State *L);
/* Pushes res.cookies: name -> {value=, domain=, path=, expires=, max_age=, secure=,
 * http_only=, samesite=} for each Set-Cookie line of the raw response headers ('n' bytes),
 * received from 'url' (a later line of the same name wins). */
void tide_lua_push_set_cookies(lua_State *L, const char *raw, size_t n, const char *url);

#endif
