/* config_file.h: the text of a configuration file into (section, key, values) entries, with
 * their line numbers, and nothing else: what the keys mean is the caller's (run/runconf.c).
 * Two syntaxes:
 *  - TOML, a subset (docs/cli.md#configuration): `key = value` with bare keys, basic "..." and
 *    literal '...' strings, integers and decimals, true/false, arrays of strings (over
 *    several lines too), `[section]` tables, `#` comments. Anything else (dates, inline
 *    tables, dotted keys, arrays of tables, multi-line strings) is refused with its line.
 *  - locust.conf, as Locust reads it (ConfigArgParse): `key = value` or `key: value`, the
 *    value unquoted to the end of the line, `[a, b]` lists, `#`/`;` comment lines,
 *    `[section]` lines ignored.
 * Memory: the entries are the input's size, about; no recursion. */
#ifndef TIDE_CONFIG_FILE_H
#define TIDE_CONFIG_FILE_H
#include <stdbool.h>
#include <stddef.h>
#include "err.h"

enum tide_conf_syntax { TIDE_CONF_TOML, TIDE_CONF_LOCUST };
enum tide_conf_kind { TIDE_CONF_STRING, TIDE_CONF_NUMBER, TIDE_CONF_BOOL, TIDE_CONF_ARRAY };

struct tide_conf_entry {
    char *section; /* "" before any [section] */
    char *key;
    enum tide_conf_kind kind;
    char **values; /* one for a scalar (a number or a bool as written: "10", "true") */
    int nvalues;
    int line; /* 1-based */
};

struct tide_conf {
    struct tide_conf_entry *entries;
    int n;
};

/* Parses 'len' bytes of 'text'. Returns 0, or -1 with "line N: what is wrong" in err (and
 * *out empty). A key given twice in one section is an error in TOML; in locust.conf the later
 * one wins, as in Locust. */
int tide_conf_parse(const char *text, size_t len, enum tide_conf_syntax syntax,
                    struct tide_conf *out, struct tide_err *err);
void tide_conf_free(struct tide_conf *c); /* NULL and an empty one are fine */

#endif
