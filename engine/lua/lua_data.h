/* lua_data.h: the 'tide.data' Lua module: CSV and JSON files loaded once per lua_State (one per
 * worker, shared by its VUs) and handed out read-only.
 *
 *   csv(path [, {header = true, separator = ","}]) -> rows
 *     RFC 4180: quoted fields with embedded separators, quotes ("") and line breaks; CRLF or LF;
 *     a UTF-8 BOM is skipped; blank lines are skipped. With a header, each row maps the header
 *     names to string values; without, each row is an array of strings. A row with a different
 *     number of fields than the first one is an error naming the line.
 *   json(path) -> value (tables read-only; null is tide.json.null)
 *
 * The same file (and CSV options) asked for again returns the very same table. Tables are
 * read-only proxies: assigning raises 'tide.data: data loaded from "x.csv" is read-only';
 * reading, '#', ipairs, pairs and tide.json.encode work as on plain tables.
 * Paths: relative ones resolve against the base directory; the resolved file (symlinks
 * followed) must lie at or below the allowed root, else 'tide.data: "../x.csv" is outside the
 * scenario folder (allow with --allow-read)'. */
#ifndef TIDE_LUA_DATA_H
#define TIDE_LUA_DATA_H
#include <lua.h>

/* The module table { csv, json }. */
int luaopen_tide_data(lua_State *L);

/* Where relative paths start (NULL: the current directory) and below which reads are allowed
 * (NULL: anywhere). The strings are copied. Raises only on memory exhaustion. */
void tide_data_set_root(lua_State *L, const char *base_dir, const char *allowed_root);

#endif
