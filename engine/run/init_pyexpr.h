/* init_pyexpr.h: one Python expression of a locustfile, written as Lua, for `tide init
 * --from-locust` (init_locust.h). Only a small, common subset is understood: literals (strings,
 * f-strings, numbers, lists, dicts), names, attributes, calls, indexing, arithmetic,
 * comparisons, and/or/not, and the Locust and standard-library calls a locustfile makes
 * (self.client.get(...), r.json(), random.choice(...), uuid.uuid4().hex, os.environ...).
 * Anything else makes the call fail, so that the caller keeps the line as a TODO instead of
 * writing Lua that means something else. The input is untrusted: the parser is bounded
 * (tokens, nodes and nesting) and never reads past the text it is given. No Python runs. */
#ifndef TIDE_INIT_PYEXPR_H
#define TIDE_INIT_PYEXPR_H
#include <stdbool.h>
#include <stddef.h>
#include "buf.h"

/* Helpers the Lua output needs, set by the translation (the caller writes them once). */
enum {
    TIDE_PY_NEEDS_CHOICE = 1,  /* choice(list) */
    TIDE_PY_NEEDS_UUID = 2,    /* uuid4() */
    TIDE_PY_NEEDS_UNIFORM = 4, /* uniform(a, b) */
    TIDE_PY_NEEDS_JSON = 8,    /* local json = require "tide.json" */
};

/* What the translation knows about where the expression is. */
struct tide_pyctx {
    const char *self_name;         /* the method's first parameter ("self"), or NULL */
    const char *prefix;            /* Lua name prefix of the class's methods ("ShopUser_") */
    const char *const *methods;    /* the class's method names, NULL-terminated, or NULL */
    const char *const *functions;  /* top-level functions of the file, NULL-terminated, or NULL */
    const char *const *catch_vars; /* names bound by `with ... catch_response=True as r`, or NULL */
    unsigned needs;                /* TIDE_PY_NEEDS_* collected */
    bool statement;                /* the expression is a statement: it must be a call */
};

/* Writes the Lua for Python expression 'text' ('len' bytes) into 'out'. 0, or -1 when the
 * expression is outside the subset (then nothing is written). */
int tide_py_expr(struct tide_pyctx *ctx, const char *text, size_t len, struct tide_buf *out);

/* 'name' as a Lua identifier: Lua keywords and tide's reserved globals (run, setup, options,
 * http...) get a trailing '_'. Writes into out (cap bytes). */
void tide_py_lua_name(const char *name, size_t len, char *out, size_t cap);

/* 's' as a Lua string literal (quoted, escaped), into 'out'. */
void tide_py_lua_string(struct tide_buf *out, const char *s, size_t len);

/* Whether 'text' is a single string literal (a docstring); its decoded value into 'out'. */
bool tide_py_string_literal(const char *text, size_t len, struct tide_buf *out);

#endif
