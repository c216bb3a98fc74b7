/* init_pyexpr.c: a Python expression as Lua (init_pyexpr.h). Three steps: tokens, a small
 * tree (an arena of nodes), then Lua written from the tree with the rules that know
 * Locust's and Python's common calls. Every limit below makes the expression "unsupported"
 * (the caller keeps a TODO), never an overflow. */
#include "init_pyexpr.h"
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TOKENS 2048
#define MAX_NODES  4096
#define MAX_KIDS   4096
#define MAX_DEPTH  40

enum tok_kind { T_END, T_NAME, T_NUM, T_STR, T_OP };
struct token {
    enum tok_kind kind;
    const char *s; /* name, number, operator, or string content (between the quotes) */
    size_t n;
    bool fstring, raw;
};

enum node_kind {
    N_NAME,
    N_NUM,
    N_STR,  /* a (possibly implicitly concatenated) string; s/n: the first token */
    N_FSTR, /* an f-string */
    N_LIST,
    N_DICT,
    N_ATTR, /* a.name */
    N_CALL, /* a(kids) */
    N_KW,   /* name=a, inside a call */
    N_INDEX,
    N_BIN, /* a op b, op in s/n */
    N_NOT,
    N_NEG,
    N_AND,
    N_OR,
};

struct node {
    enum node_kind kind;
    const char *s;
    size_t n;
    int a, b;           /* children */
    int first, count;   /* kids[first..first+count) */
    int tok;            /* first token (strings: for concatenation) */
    bool raw, dictlike; /* string flags; a call's args include keywords */
};

struct parser {
    struct token *toks; /* sized for the text: a token per byte at most, capped */
    int cap_tok, cap_nodes, cap_kids;
    int ntok, pos;
    struct node *nodes;
    int nnodes;
    int *kids;
    int nkids;
    int depth;
    bool bad;
};

/* ---- tokens ---- */

static bool is_name_start(int c)
{
    return isalpha(c) || c == '_';
}

static bool is_name_char(int c)
{
    return isalnum(c) || c == '_';
}

/* A string starting at p (after any prefix): its content span and end. False if unterminated. */
static bool scan_string(const char *p, const char *end, bool raw, const char **content,
                        size_t *clen, const char **after)
{
    char q = *p;
    bool triple = end - p >= 3 && p[1] == q && p[2] == q;
    const char *s = p + (triple ? 3 : 1);
    for (const char *c = s; c < end; c++) {
        if (*c == '\\' && !raw) {
            c++;
            continue;
        }
        if (*c == '\\' && raw) { /* r"\"" still escapes the quote for the lexer */
            c++;
            continue;
        }
        if (*c != q)
            continue;
        if (!triple) {
            *content = s, *clen = (size_t)(c - s), *after = c + 1;
            return true;
        }
        if (end - c >= 3 && c[1] == q && c[2] == q) {
            *content = s, *clen = (size_t)(c - s), *after = c + 3;
            return true;
        }
    }
    return false;
}

static const char *const ops3[] = {"**=", "//=", "...", NULL};
static const char *const ops2[] = {"==", "!=", "<=", ">=", "**", "//", "->",
                                   "+=", "-=", "*=", "/=", "%=", ":=", NULL};

static bool tokenize(struct parser *ps, const char *text, size_t len)
{
    const char *p = text, *end = text + len;
    while (p < end) {
        if (isspace((unsigned char)*p)) {
            p++;
            continue;
        }
        if (ps->ntok >= ps->cap_tok - 1)
            return false;
        struct token *t = &ps->toks[ps->ntok];
        memset(t, 0, sizeof *t);
        /* string prefixes: r, b, u, f and pairs of them */
        size_t pre = 0;
        while (pre < 2 && p + pre < end && strchr("rRbBuUfF", p[pre]) != NULL)
            pre++;
        if (p + pre < end && (p[pre] == '"' || p[pre] == '\'') &&
            (pre == 0 || !is_name_char((unsigned char)(p > text ? p[-1] : ' ')))) {
            for (size_t i = 0; i < pre; i++) {
                t->raw |= (p[i] == 'r' || p[i] == 'R');
                t->fstring |= (p[i] == 'f' || p[i] == 'F');
            }
            const char *after;
            if (!scan_string(p + pre, end, t->raw, &t->s, &t->n, &after))
                return false;
            t->kind = T_STR;
            ps->ntok++;
            p = after;
            continue;
        }
        if (is_name_start((unsigned char)*p)) {
            const char *s = p;
            while (p < end && is_name_char((unsigned char)*p))
                p++;
            t->kind = T_NAME, t->s = s, t->n = (size_t)(p - s);
            ps->ntok++;
            continue;
        }
        if (isdigit((unsigned char)*p) ||
            (*p == '.' && p + 1 < end && isdigit((unsigned char)p[1]))) {
            const char *s = p;
            while (p < end && (isalnum((unsigned char)*p) || *p == '.' || *p == '_' ||
                               ((*p == '+' || *p == '-') && (p[-1] == 'e' || p[-1] == 'E') &&
                                !(s[0] == '0' && s + 1 < end && (s[1] == 'x' || s[1] == 'X')))))
                p++;
            t->kind = T_NUM, t->s = s, t->n = (size_t)(p - s);
            ps->ntok++;
            continue;
        }
        size_t n = 1;
        for (int i = 0; ops3[i] != NULL; i++)
            if ((size_t)(end - p) >= 3 && memcmp(p, ops3[i], 3) == 0)
                n = 3;
        for (int i = 0; n == 1 && ops2[i] != NULL; i++)
            if ((size_t)(end - p) >= 2 && memcmp(p, ops2[i], 2) == 0)
                n = 2;
        if (n == 1 && strchr("+-*/%<>()[]{},.:=@|&^~!;", *p) == NULL)
            return false; /* a character outside Python's expression syntax */
        t->kind = T_OP, t->s = p, t->n = n;
        ps->ntok++;
        p += n;
    }
    ps->toks[ps->ntok].kind = T_END;
    return true;
}

/* ---- tree ---- */

static struct token *peek(struct parser *ps)
{
    return &ps->toks[ps->pos];
}

static bool tok_is(const struct token *t, const char *s)
{
    size_t n = strlen(s);
    return (t->kind == T_OP || t->kind == T_NAME) && t->n == n && memcmp(t->s, s, n) == 0;
}

static bool accept(struct parser *ps, const char *s)
{
    if (!tok_is(peek(ps), s))
        return false;
    ps->pos++;
    return true;
}

static int new_node(struct parser *ps, enum node_kind kind)
{
    if (ps->nnodes >= ps->cap_nodes) {
        ps->bad = true;
        return 0;
    }
    struct node *n = &ps->nodes[ps->nnodes];
    memset(n, 0, sizeof *n);
    n->kind = kind;
    n->a = n->b = -1;
    n->tok = ps->pos;
    return ps->nnodes++;
}

static int parse_expr(struct parser *ps);

/* Comma-separated expressions until 'close'; keywords (name=value) allowed when 'call'. */
static int parse_items(struct parser *ps, const char *close, bool call, bool dict, int node)
{
    int tmp[256], n = 0;
    while (!ps->bad && !accept(ps, close)) {
        if (n >= 254 || peek(ps)->kind == T_END) {
            ps->bad = true;
            break;
        }
        struct token *t = peek(ps);
        if (call && t->kind == T_NAME && tok_is(&ps->toks[ps->pos + 1], "=")) {
            int kw = new_node(ps, N_KW);
            ps->nodes[kw].s = t->s, ps->nodes[kw].n = t->n;
            ps->pos += 2;
            ps->nodes[kw].a = parse_expr(ps);
            tmp[n++] = kw;
        } else if (tok_is(t, "*") || tok_is(t, "**")) {
            ps->bad = true; /* *args, **kwargs */
            break;
        } else {
            tmp[n++] = parse_expr(ps);
            if (dict) {
                if (!accept(ps, ":")) {
                    ps->bad = true;
                    break;
                }
                tmp[n++] = parse_expr(ps);
            }
        }
        if (tok_is(peek(ps), "for")) { /* a comprehension */
            ps->bad = true;
            break;
        }
        if (!accept(ps, ",") && !tok_is(peek(ps), close)) {
            ps->bad = true;
            break;
        }
    }
    if (ps->bad || ps->nkids + n > ps->cap_kids) {
        ps->bad = true;
        return node;
    }
    ps->nodes[node].first = ps->nkids;
    ps->nodes[node].count = n;
    memcpy(ps->kids + ps->nkids, tmp, (size_t)n * sizeof *tmp);
    ps->nkids += n;
    return node;
}

static int parse_atom(struct parser *ps)
{
    struct token *t = peek(ps);
    if (t->kind == T_NAME) {
        static const char *const keywords[] = {"lambda", "if", "else", "for", "yield", "await",
                                               "in",     "is", "and",  "or",  "not",   NULL};
        for (int i = 0; keywords[i] != NULL; i++)
            if (tok_is(t, keywords[i]))
                ps->bad = true;
        int n = new_node(ps, N_NAME);
        ps->nodes[n].s = t->s, ps->nodes[n].n = t->n;
        ps->pos++;
        return n;
    }
    if (t->kind == T_NUM) {
        int n = new_node(ps, N_NUM);
        ps->nodes[n].s = t->s, ps->nodes[n].n = t->n;
        ps->pos++;
        return n;
    }
    if (t->kind == T_STR) {
        int n = new_node(ps, t->fstring ? N_FSTR : N_STR);
        ps->nodes[n].s = t->s, ps->nodes[n].n = t->n, ps->nodes[n].raw = t->raw;
        ps->nodes[n].count = 0;
        while (peek(ps)->kind == T_STR) { /* "a" "b": one string */
            if (peek(ps)->fstring != t->fstring)
                ps->bad = true;
            ps->nodes[n].count++;
            ps->pos++;
        }
        return n;
    }
    if (accept(ps, "(")) {
        if (accept(ps, ")")) {
            ps->bad = true; /* () */
            return 0;
        }
        int inner = parse_expr(ps);
        if (!accept(ps, ")"))
            ps->bad = true; /* a tuple or a generator */
        return inner;
    }
    if (accept(ps, "["))
        return parse_items(ps, "]", false, false, new_node(ps, N_LIST));
    if (accept(ps, "{"))
        return parse_items(ps, "}", false, true, new_node(ps, N_DICT));
    ps->bad = true;
    return 0;
}

static int parse_postfix(struct parser *ps)
{
    int n = parse_atom(ps);
    while (!ps->bad) {
        if (accept(ps, ".")) {
            struct token *t = peek(ps);
            if (t->kind != T_NAME) {
                ps->bad = true;
                break;
            }
            int a = new_node(ps, N_ATTR);
            ps->nodes[a].a = n, ps->nodes[a].s = t->s, ps->nodes[a].n = t->n;
            ps->pos++;
            n = a;
        } else if (accept(ps, "(")) {
            int c = new_node(ps, N_CALL);
            ps->nodes[c].a = n;
            n = parse_items(ps, ")", true, false, c);
        } else if (accept(ps, "[")) {
            int x = new_node(ps, N_INDEX);
            ps->nodes[x].a = n;
            ps->nodes[x].b = parse_expr(ps);
            if (!accept(ps, "]"))
                ps->bad = true; /* a slice, a tuple index */
            n = x;
        } else {
            break;
        }
    }
    return n;
}

static int binary(struct parser *ps, int l, const struct token *op, int r, enum node_kind kind)
{
    int b = new_node(ps, kind);
    ps->nodes[b].a = l, ps->nodes[b].b = r;
    ps->nodes[b].s = op->s, ps->nodes[b].n = op->n;
    return b;
}

static int parse_unary(struct parser *ps);

static int parse_power(struct parser *ps)
{
    int l = parse_postfix(ps);
    if (tok_is(peek(ps), "**")) {
        struct token *op = peek(ps);
        ps->pos++;
        return binary(ps, l, op, parse_unary(ps), N_BIN);
    }
    return l;
}

static int parse_unary(struct parser *ps)
{
    if (++ps->depth > MAX_DEPTH) {
        ps->bad = true;
        return 0;
    }
    int n;
    if (accept(ps, "-")) {
        n = new_node(ps, N_NEG);
        ps->nodes[n].a = parse_unary(ps);
    } else if (accept(ps, "+")) {
        n = parse_unary(ps);
    } else {
        n = parse_power(ps);
    }
    ps->depth--;
    return n;
}

static int parse_binary_level(struct parser *ps, int level);

static const char *const levels[][7] = {
    {"*", "/", "//", "%", NULL},
    {"+", "-", NULL},
    {"==", "!=", "<", ">", "<=", ">=", NULL}, /* and in, not in, is, is not */
};

static int parse_binary_level(struct parser *ps, int level)
{
    if (level < 0)
        return parse_unary(ps);
    int l = parse_binary_level(ps, level - 1);
    int chained = 0;
    while (!ps->bad) {
        struct token *t = peek(ps);
        bool match = false;
        for (int i = 0; levels[level][i] != NULL; i++)
            match |= t->kind == T_OP && tok_is(t, levels[level][i]);
        if (level == 2 && (tok_is(t, "in") || tok_is(t, "is")))
            match = true;
        if (level == 2 && tok_is(t, "not") && tok_is(&ps->toks[ps->pos + 1], "in"))
            match = true;
        if (!match)
            break;
        if (level == 2 && ++chained > 1) {
            ps->bad = true; /* a < b < c */
            break;
        }
        struct token op = *t;
        ps->pos++;
        if (tok_is(&op, "not") || (tok_is(&op, "is") && tok_is(peek(ps), "not"))) {
            bool is_not = tok_is(&op, "is");
            ps->pos++;
            op.s = is_not ? "is not" : "not in";
            op.n = 6;
        }
        l = binary(ps, l, &op, parse_binary_level(ps, level - 1), N_BIN);
    }
    return l;
}

static int parse_not(struct parser *ps)
{
    if (++ps->depth > MAX_DEPTH) {
        ps->bad = true;
        return 0;
    }
    int n;
    if (accept(ps, "not")) {
        n = new_node(ps, N_NOT);
        ps->nodes[n].a = parse_not(ps);
    } else {
        n = parse_binary_level(ps, 2);
    }
    ps->depth--;
    return n;
}

static int parse_and(struct parser *ps)
{
    int l = parse_not(ps);
    while (!ps->bad && tok_is(peek(ps), "and")) {
        struct token *op = peek(ps);
        ps->pos++;
        l = binary(ps, l, op, parse_not(ps), N_AND);
    }
    return l;
}

static int parse_expr(struct parser *ps)
{
    if (++ps->depth > MAX_DEPTH) {
        ps->bad = true;
        return 0;
    }
    int l = parse_and(ps);
    while (!ps->bad && tok_is(peek(ps), "or")) {
        struct token *op = peek(ps);
        ps->pos++;
        l = binary(ps, l, op, parse_and(ps), N_OR);
    }
    if (tok_is(peek(ps), "if")) /* a if c else b */
        ps->bad = true;
    ps->depth--;
    return l;
}

/* ---- Lua ---- */

struct writer {
    struct parser *ps;
    struct tide_pyctx *ctx;
    struct tide_buf *out;
    int depth;
};

static bool in_list(const char *const *list, const char *s, size_t n)
{
    for (int i = 0; list != NULL && list[i] != NULL; i++)
        if (strlen(list[i]) == n && memcmp(list[i], s, n) == 0)
            return true;
    return false;
}

static const char *const lua_reserved[] = {
    "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto", "if", "in",
    "local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while",
    /* tide's globals and the names the translation's Lua uses */
    "run", "setup", "teardown", "vu_setup", "vu_teardown", "verify", "handle_summary", "options",
    "http", "tide", "json", "pick", "choice", "uuid4", "uniform", "started", "WAITED", "USERS",
    "RUN_TIME", "share", "tostring", "tonumber", "math", "string", "table", "print", "error",
    "type", "pairs", "ipairs", "os", "select", "next", "load", "require", NULL};

void tide_py_lua_name(const char *name, size_t len, char *out, size_t cap)
{
    if (cap == 0)
        return;
    size_t n = len < cap - 2 ? len : cap - 2;
    memcpy(out, name, n);
    out[n] = '\0';
    if (in_list(lua_reserved, name, len)) {
        out[n] = '_';
        out[n + 1] = '\0';
    }
}

void tide_py_lua_string(struct tide_buf *out, const char *s, size_t len)
{
    tide_buf_puts(out, "\"");
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            tide_buf_printf(out, "\\%c", c);
        else if (c == '\n')
            tide_buf_puts(out, "\\n");
        else if (c < 0x20 || c == 0x7f)
            tide_buf_printf(out, "\\%03u", c);
        else
            tide_buf_add(out, &s[i], 1);
    }
    tide_buf_puts(out, "\"");
}

/* Python escapes of a string token's content, decoded into 'out'. */
static void decode_py(struct tide_buf *out, const char *s, size_t n, bool raw)
{
    for (size_t i = 0; i < n; i++) {
        if (raw || s[i] != '\\' || i + 1 >= n) {
            tide_buf_add(out, &s[i], 1);
            continue;
        }
        char c = s[++i], v = c;
        switch (c) {
        case 'n':
            v = '\n';
            break;
        case 't':
            v = '\t';
            break;
        case 'r':
            v = '\r';
            break;
        case '0':
            v = '\0';
            break;
        case '\n':
            continue; /* a line continuation inside the string */
        case 'x':
            if (i + 2 < n && isxdigit((unsigned char)s[i + 1]) &&
                isxdigit((unsigned char)s[i + 2])) {
                char hex[3] = {s[i + 1], s[i + 2], 0};
                v = (char)strtol(hex, NULL, 16);
                i += 2;
            }
            break;
        case '\\':
        case '\'':
        case '"':
            break;
        default:
            tide_buf_add(out, "\\", 1); /* kept as Python keeps an unknown escape */
            break;
        }
        tide_buf_add(out, &v, 1);
    }
}

/* The decoded text of a (possibly concatenated) plain string node. */
static void string_value(struct writer *w, const struct node *n, struct tide_buf *out)
{
    for (int i = 0; i < n->count; i++) {
        const struct token *t = &w->ps->toks[n->tok + i];
        decode_py(out, t->s, t->n, t->raw);
    }
    tide_buf_add(out, "", 0);
}

static bool name_is(const struct node *n, const char *s)
{
    return n->kind == N_NAME && strlen(s) == n->n && memcmp(n->s, s, n->n) == 0;
}

static bool attr_is(const struct node *n, const char *s)
{
    return n->kind == N_ATTR && strlen(s) == n->n && memcmp(n->s, s, n->n) == 0;
}

static const struct node *node_at(struct writer *w, int i)
{
    return &w->ps->nodes[i];
}

/* a.b where a is the name 'base' */
static bool dotted(struct writer *w, const struct node *n, const char *base, const char *attr)
{
    return attr_is(n, attr) && name_is(node_at(w, n->a), base);
}

static bool is_self(struct writer *w, const struct node *n)
{
    return w->ctx->self_name != NULL && name_is(n, w->ctx->self_name);
}

/* self.client or self.user.client */
static bool is_client(struct writer *w, const struct node *n)
{
    if (!attr_is(n, "client"))
        return false;
    const struct node *o = node_at(w, n->a);
    return is_self(w, o) || (attr_is(o, "user") && is_self(w, node_at(w, o->a)));
}

static int emit(struct writer *w, int i, bool top);

/* An expression indexed, or called with ':' or '.': Lua wants a prefix expression there, so a
 * literal ("a"["b"], {1}[1]) or a unary operation is parenthesized. */
static int emit_object(struct writer *w, int i)
{
    enum node_kind k = w->ps->nodes[i].kind;
    bool wrap = k == N_STR || k == N_LIST || k == N_DICT || k == N_NUM || k == N_NOT || k == N_NEG;
    tide_buf_puts(w->out, wrap ? "(" : "");
    int rc = emit(w, i, false);
    tide_buf_puts(w->out, wrap ? ")" : "");
    return rc;
}

static int emit_kid(struct writer *w, const struct node *n, int k, bool top)
{
    return emit(w, w->ps->kids[n->first + k], top);
}

static int emit_args(struct writer *w, const struct node *call, int from)
{
    for (int k = from; k < call->count; k++) {
        if (node_at(w, w->ps->kids[call->first + k])->kind == N_KW)
            return -1;
        if (k > from)
            tide_buf_puts(w->out, ", ");
        if (emit_kid(w, call, k, true) != 0)
            return -1;
    }
    return 0;
}

static int positional(struct writer *w, const struct node *call)
{
    int n = 0;
    for (int k = 0; k < call->count; k++)
        n += node_at(w, w->ps->kids[call->first + k])->kind != N_KW;
    return n;
}

/* self.client.METHOD(url, ...) as tide.http. */
static int emit_http(struct writer *w, const struct node *call, const struct node *fn)
{
    static const char *const methods[] = {"get",  "post",    "put",     "delete", "patch",
                                          "head", "options", "request", NULL};
    char method[16];
    if (fn->n >= sizeof method || !in_list(methods, fn->s, fn->n))
        return -1;
    memcpy(method, fn->s, fn->n);
    method[fn->n] = '\0';
    bool request = strcmp(method, "request") == 0;
    int npos = positional(w, call);
    if (npos < (request ? 2 : 1) || npos > (request ? 3 : 2))
        return -1;
    tide_buf_printf(w->out, "http.%s(", method);
    if (emit_kid(w, call, 0, true) != 0)
        return -1;
    tide_buf_puts(w->out, ", ");
    if (request) {
        if (emit_kid(w, call, 1, true) != 0)
            return -1;
        tide_buf_puts(w->out, ", ");
    }
    tide_buf_puts(w->out, "{");
    int nopts = 0;
    for (int k = 0; k < call->count; k++) {
        const struct node *kw = node_at(w, w->ps->kids[call->first + k]);
        bool data_pos = kw->kind != N_KW && k == (request ? 2 : 1);
        if (kw->kind != N_KW && !data_pos)
            continue;
        const char *key = data_pos ? "data" : NULL;
        char name[32];
        if (key == NULL) {
            if (kw->n >= sizeof name)
                return -1;
            memcpy(name, kw->s, kw->n);
            name[kw->n] = '\0';
            key = name;
        }
        const struct node *val = data_pos ? kw : node_at(w, kw->a);
        int vi = data_pos ? w->ps->kids[call->first + k] : kw->a;
        if (strcmp(key, "catch_response") == 0)
            continue; /* the `with` statement's business */
        const char *lua;
        if (strcmp(key, "name") == 0 || strcmp(key, "json") == 0 || strcmp(key, "headers") == 0 ||
            strcmp(key, "timeout") == 0)
            lua = key;
        else if (strcmp(key, "params") == 0)
            lua = "query";
        else if (strcmp(key, "data") == 0)
            lua = val->kind == N_DICT ? "form" : "body";
        else if (strcmp(key, "allow_redirects") == 0 && name_is(val, "False")) {
            tide_buf_printf(w->out, "%sredirects = 0", nopts++ ? ", " : " ");
            continue;
        } else if (strcmp(key, "allow_redirects") == 0 && name_is(val, "True"))
            continue;
        else
            return -1; /* cookies, auth, files, verify...: not translated */
        tide_buf_printf(w->out, "%s%s = ", nopts++ ? ", " : " ", lua);
        if (emit(w, vi, true) != 0)
            return -1;
    }
    tide_buf_puts(w->out, nopts ? " })" : "})");
    return 0;
}

/* Calls of the standard library and of the response object. */
static int emit_call(struct writer *w, const struct node *call)
{
    const struct node *fn = node_at(w, call->a);
    struct tide_buf *o = w->out;
    int npos = positional(w, call);
    if (fn->kind == N_ATTR && is_client(w, node_at(w, fn->a)))
        return emit_http(w, call, fn);
    if (fn->kind == N_ATTR && attr_is(fn, "json") && call->count == 0) {
        if (emit_object(w, fn->a) != 0)
            return -1;
        tide_buf_puts(o, ":json()");
        return 0;
    }
    static const struct {
        const char *base, *attr, *lua;
        int args;
        unsigned needs;
    } simple[] = {
        {"random", "randint", "math.random(", 2, 0},
        {"random", "random", "math.random(", 0, 0},
        {"random", "choice", "choice(", 1, TIDE_PY_NEEDS_CHOICE},
        {"random", "uniform", "uniform(", 2, TIDE_PY_NEEDS_UNIFORM},
        {"time", "sleep", "tide.sleep(", 1, 0},
        {"gevent", "sleep", "tide.sleep(", 1, 0},
        {"time", "time", "os.time(", 0, 0},
        {"json", "dumps", "json.encode(", 1, TIDE_PY_NEEDS_JSON},
        {"json", "loads", "json.decode(", 1, TIDE_PY_NEEDS_JSON},
        {"os", "getenv", "tide.env(", -1, 0},
        {"uuid", "uuid4", "uuid4(", 0, TIDE_PY_NEEDS_UUID},
        {"math", "floor", "math.floor(", 1, 0},
        {"math", "ceil", "math.ceil(", 1, 0},
        {NULL, "str", "tostring(", 1, 0},
        {NULL, "float", "tonumber(", 1, 0},
        {NULL, "int", "math.floor(tonumber(", 1, 0},
        {NULL, "print", "print(", -1, 0},
        {NULL, "abs", "math.abs(", 1, 0},
        {NULL, "min", "math.min(", -1, 0},
        {NULL, "max", "math.max(", -1, 0},
    };
    for (size_t i = 0; i < sizeof simple / sizeof simple[0]; i++) {
        bool match = simple[i].base == NULL ? name_is(fn, simple[i].attr)
                                            : dotted(w, fn, simple[i].base, simple[i].attr);
        if (!match)
            continue;
        if (simple[i].args >= 0 && npos != simple[i].args)
            return -1;
        w->ctx->needs |= simple[i].needs;
        tide_buf_puts(o, simple[i].lua);
        if (emit_args(w, call, 0) != 0)
            return -1;
        tide_buf_puts(o, strcmp(simple[i].attr, "int") == 0 && simple[i].base == NULL ? "))" : ")");
        return 0;
    }
    if (name_is(fn, "len") && npos == 1 && call->count == 1) {
        tide_buf_puts(o, "#");
        return emit_kid(w, call, 0, false);
    }
    /* os.environ.get(K[, D]) */
    if (fn->kind == N_ATTR && attr_is(fn, "get") && dotted(w, node_at(w, fn->a), "os", "environ")) {
        tide_buf_puts(o, "tide.env(");
        if (emit_args(w, call, 0) != 0)
            return -1;
        tide_buf_puts(o, ")");
        return 0;
    }
    /* self.environment.runner.quit() */
    if (attr_is(fn, "quit") && call->count == 0) {
        tide_buf_puts(o, "tide.abort(\"runner.quit()\")");
        return 0;
    }
    if (fn->kind == N_ATTR && is_self(w, node_at(w, fn->a))) { /* self.method(...) */
        if (!in_list(w->ctx->methods, fn->s, fn->n))
            return -1;
        tide_buf_printf(o, "%s%.*s(", w->ctx->prefix ? w->ctx->prefix : "", (int)fn->n, fn->s);
        if (emit_args(w, call, 0) != 0)
            return -1;
        tide_buf_puts(o, ")");
        return 0;
    }
    /* "sep".join(list), d.get(k[, default]), list.append(v) */
    if (attr_is(fn, "join") && npos == 1 && node_at(w, fn->a)->kind == N_STR) {
        tide_buf_puts(o, "table.concat(");
        if (emit_kid(w, call, 0, true) != 0)
            return -1;
        tide_buf_puts(o, ", ");
        if (emit(w, fn->a, true) != 0)
            return -1;
        tide_buf_puts(o, ")");
        return 0;
    }
    if (attr_is(fn, "get") && (npos == 1 || npos == 2) && call->count == npos) {
        tide_buf_puts(o, "(");
        if (emit_object(w, fn->a) != 0)
            return -1;
        tide_buf_puts(o, "[");
        if (emit_kid(w, call, 0, true) != 0)
            return -1;
        tide_buf_puts(o, "]");
        if (npos == 2) {
            tide_buf_puts(o, " or ");
            if (emit_kid(w, call, 1, false) != 0)
                return -1;
        }
        tide_buf_puts(o, ")");
        return 0;
    }
    if (attr_is(fn, "append") && npos == 1 && call->count == 1) {
        tide_buf_puts(o, "table.insert(");
        if (emit(w, fn->a, true) != 0)
            return -1;
        tide_buf_puts(o, ", ");
        if (emit_kid(w, call, 0, true) != 0)
            return -1;
        tide_buf_puts(o, ")");
        return 0;
    }
    if ((attr_is(fn, "upper") || attr_is(fn, "lower")) && call->count == 0) {
        tide_buf_printf(o, "string.%.*s(", (int)fn->n, fn->s);
        if (emit(w, fn->a, true) != 0)
            return -1;
        tide_buf_puts(o, ")");
        return 0;
    }
    if (fn->kind == N_NAME && in_list(w->ctx->functions, fn->s, fn->n)) { /* a def of the file */
        char name[128];
        tide_py_lua_name(fn->s, fn->n, name, sizeof name);
        tide_buf_printf(o, "%s(", name);
        /* login(self): the function's user parameter is implicit in Lua (per-VU globals) */
        bool self_first = call->count > 0 && is_self(w, node_at(w, w->ps->kids[call->first]));
        if (emit_args(w, call, self_first ? 1 : 0) != 0)
            return -1;
        tide_buf_puts(o, ")");
        return 0;
    }
    return -1;
}

static bool stringish(struct writer *w, int i)
{
    const struct node *n = node_at(w, i);
    if (n->kind == N_STR || n->kind == N_FSTR)
        return true;
    if (n->kind == N_CALL && name_is(node_at(w, n->a), "str"))
        return true;
    if (n->kind == N_ATTR && (attr_is(n, "text") || attr_is(n, "hex")))
        return true;
    return n->kind == N_BIN && n->n == 1 && n->s[0] == '+' &&
           (stringish(w, n->a) || stringish(w, n->b));
}

static int emit_fstring(struct writer *w, const struct node *n)
{
    if (n->count != 1)
        return -1;
    const char *s = n->s, *end = n->s + n->n;
    struct tide_buf lit = {0};
    int parts = 0, rc = 0;
    tide_buf_puts(w->out, "(");
    while (s < end && rc == 0) {
        const char *brace = s;
        while (brace < end && *brace != '{' && *brace != '}')
            brace++;
        decode_py(&lit, s, (size_t)(brace - s), n->raw);
        if (brace + 1 < end && brace[0] == brace[1]) { /* {{ or }} */
            tide_buf_add(&lit, brace, 1);
            s = brace + 2;
            continue;
        }
        if (lit.len > 0 || (brace >= end && parts == 0)) {
            tide_buf_puts(w->out, parts++ ? " .. " : "");
            tide_py_lua_string(w->out, lit.data ? lit.data : "", lit.len);
            lit.len = 0;
        }
        if (brace >= end)
            break;
        const char *close = memchr(brace, '}', (size_t)(end - brace));
        if (*brace == '}' || close == NULL || memchr(brace + 1, '{', (size_t)(close - brace - 1)) ||
            memchr(brace + 1, ':', (size_t)(close - brace - 1)) ||
            memchr(brace + 1, '!', (size_t)(close - brace - 1))) {
            rc = -1; /* format specs, conversions, nested braces */
            break;
        }
        tide_buf_puts(w->out, parts++ ? " .. tostring(" : "tostring(");
        struct tide_buf inner = {0};
        if (tide_py_expr(w->ctx, brace + 1, (size_t)(close - brace - 1), &inner) != 0)
            rc = -1;
        else
            tide_buf_add(w->out, inner.data, inner.len);
        tide_buf_free(&inner);
        tide_buf_puts(w->out, ")");
        s = close + 1;
    }
    if (rc == 0 && lit.len > 0) { /* text after the last {{ or }} */
        tide_buf_puts(w->out, parts++ ? " .. " : "");
        tide_py_lua_string(w->out, lit.data, lit.len);
    }
    tide_buf_puts(w->out, ")");
    tide_buf_free(&lit);
    return rc;
}

static int emit_bin(struct writer *w, const struct node *n, bool top)
{
    char op[8];
    snprintf(op, sizeof op, "%.*s", (int)(n->n < 7 ? n->n : 7), n->s);
    struct tide_buf *o = w->out;
    if (strcmp(op, "in") == 0 || strcmp(op, "not in") == 0) {
        bool neg = op[0] == 'n';
        const struct node *hay = node_at(w, n->b);
        if (attr_is(hay, "text") || attr_is(hay, "content")) { /* "x" in r.text */
            tide_buf_puts(o, neg ? "(not string.find(" : "(string.find(");
            if (emit(w, n->b, true) != 0)
                return -1;
            tide_buf_puts(o, ", ");
            if (emit(w, n->a, true) != 0)
                return -1;
            tide_buf_puts(o, ", 1, true)");
            tide_buf_puts(o, neg ? ")" : " ~= nil)");
            return 0;
        }
        if (hay->kind == N_LIST || hay->kind == N_NAME)
            return -1; /* membership in a list: no one-liner in Lua */
        tide_buf_puts(o, "(");
        if (emit_object(w, n->b) != 0)
            return -1;
        tide_buf_puts(o, "[");
        if (emit(w, n->a, true) != 0)
            return -1;
        tide_buf_puts(o, neg ? "] == nil)" : "] ~= nil)");
        return 0;
    }
    const char *lua = op;
    if (strcmp(op, "!=") == 0 || strcmp(op, "is not") == 0)
        lua = "~=";
    else if (strcmp(op, "is") == 0)
        lua = "==";
    else if (strcmp(op, "**") == 0)
        lua = "^";
    else if (strcmp(op, "+") == 0 && (stringish(w, n->a) || stringish(w, n->b)))
        lua = "..";
    else if (strcmp(op, "%") == 0 && stringish(w, n->a))
        return -1; /* "%s" % x */
    else if (strcmp(op, "*") == 0 && (stringish(w, n->a) || stringish(w, n->b)))
        return -1; /* "ab" * 3 */
    if (!top)
        tide_buf_puts(o, "(");
    if (emit(w, n->a, false) != 0)
        return -1;
    tide_buf_printf(o, " %s ", lua);
    if (emit(w, n->b, false) != 0)
        return -1;
    if (!top)
        tide_buf_puts(o, ")");
    return 0;
}

static int emit_attr(struct writer *w, const struct node *n)
{
    const struct node *obj = node_at(w, n->a);
    struct tide_buf *o = w->out;
    char name[128];
    if (is_self(w, obj) || (attr_is(obj, "user") && is_self(w, node_at(w, obj->a)))) {
        static const char *const refused[] = {"client", "environment", "user", "parent",
                                              "host",   "wait_time",   NULL};
        if (in_list(refused, n->s, n->n))
            return -1;
        if (in_list(w->ctx->methods, n->s, n->n)) {
            tide_buf_printf(o, "%s%.*s", w->ctx->prefix ? w->ctx->prefix : "", (int)n->n, n->s);
            return 0;
        }
        tide_py_lua_name(n->s, n->n, name, sizeof name); /* self.x: a per-VU global */
        tide_buf_puts(o, name);
        return 0;
    }
    if (attr_is(n, "hex") && obj->kind == N_CALL &&
        dotted(w, node_at(w, obj->a), "uuid", "uuid4")) {
        w->ctx->needs |= TIDE_PY_NEEDS_UUID;
        tide_buf_puts(o, "(uuid4():gsub(\"-\", \"\"))");
        return 0;
    }
    if (obj->kind == N_NAME &&
        (name_is(obj, "os") || name_is(obj, "random") || name_is(obj, "time") ||
         name_is(obj, "uuid") || name_is(obj, "json") || name_is(obj, "locust")))
        return -1;
    if (attr_is(n, "ok")) {
        tide_buf_puts(o, "(");
        if (emit_object(w, n->a) != 0)
            return -1;
        tide_buf_puts(o, ".status < 400)");
        return 0;
    }
    static const char *const unsupported[] = {"elapsed",  "reason",  "cookies", "request",
                                              "encoding", "history", "raw",     NULL};
    if (in_list(unsupported, n->s, n->n))
        return -1;
    if (emit_object(w, n->a) != 0)
        return -1;
    if (attr_is(n, "status_code"))
        tide_buf_puts(o, ".status");
    else if (attr_is(n, "text") || attr_is(n, "content"))
        tide_buf_puts(o, ".body");
    else {
        tide_py_lua_name(n->s, n->n, name, sizeof name);
        if (strcmp(name, "") == 0 || name[strlen(name) - 1] == '_')
            tide_buf_printf(o, "[\"%.*s\"]", (int)n->n, n->s);
        else
            tide_buf_printf(o, ".%s", name);
    }
    return 0;
}

static bool lua_identifier(const char *s, size_t n)
{
    if (n == 0 || n > 60 || !is_name_start((unsigned char)s[0]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_name_char((unsigned char)s[i]))
            return false;
    return true;
}

static bool lua_keyword(const char *s, size_t n)
{
    static const char *const kw[] = {"and",   "break", "do",       "else",  "elseif", "end",
                                     "false", "for",   "function", "goto",  "if",     "in",
                                     "local", "nil",   "not",      "or",    "repeat", "return",
                                     "then",  "true",  "until",    "while", NULL};
    return in_list(kw, s, n);
}

static int emit_dict(struct writer *w, const struct node *n)
{
    struct tide_buf *o = w->out;
    tide_buf_puts(o, n->count ? "{ " : "{}");
    for (int k = 0; k + 1 < n->count; k += 2) {
        const struct node *key = node_at(w, w->ps->kids[n->first + k]);
        if (k > 0)
            tide_buf_puts(o, ", ");
        struct tide_buf kv = {0};
        if (key->kind == N_STR)
            string_value(w, key, &kv);
        if (key->kind == N_STR && !kv.failed && lua_identifier(kv.data, kv.len) &&
            !lua_keyword(kv.data, kv.len)) {
            tide_buf_add(o, kv.data, kv.len);
        } else {
            tide_buf_puts(o, "[");
            if (emit_kid(w, n, k, true) != 0) {
                tide_buf_free(&kv);
                return -1;
            }
            tide_buf_puts(o, "]");
        }
        tide_buf_free(&kv);
        tide_buf_puts(o, " = ");
        if (emit_kid(w, n, k + 1, true) != 0)
            return -1;
    }
    tide_buf_puts(o, n->count ? " }" : "");
    return 0;
}

static int emit_index(struct writer *w, const struct node *n)
{
    const struct node *obj = node_at(w, n->a), *idx = node_at(w, n->b);
    struct tide_buf *o = w->out;
    if (dotted(w, obj, "os", "environ")) {
        tide_buf_puts(o, "tide.env(");
        if (emit(w, n->b, true) != 0)
            return -1;
        tide_buf_puts(o, ")");
        return 0;
    }
    if (emit_object(w, n->a) != 0)
        return -1;
    tide_buf_puts(o, "[");
    if (idx->kind == N_NUM) { /* Python counts from 0, Lua from 1 */
        char *endp;
        char tmp[32];
        snprintf(tmp, sizeof tmp, "%.*s", (int)(idx->n < 31 ? idx->n : 31), idx->s);
        long v = strtol(tmp, &endp, 10);
        if (*endp != '\0' || v < 0 || v > 1000000)
            return -1;
        tide_buf_printf(o, "%ld]", v + 1);
        return 0;
    }
    if (idx->kind != N_STR && idx->kind != N_FSTR)
        return -1; /* a variable index: a key or a position? */
    if (emit(w, n->b, true) != 0)
        return -1;
    tide_buf_puts(o, "]");
    return 0;
}

/* A Python number literal that Lua reads the same: decimal (underscores dropped) or hex. */
static int emit_number(struct tide_buf *o, const char *s, size_t n)
{
    char num[64];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '_')
            continue;
        if (k + 1 >= sizeof num)
            return -1;
        num[k++] = s[i];
    }
    num[k] = '\0';
    bool hex = k > 2 && num[0] == '0' && (num[1] == 'x' || num[1] == 'X');
    for (size_t i = hex ? 2 : 0; i < k; i++) {
        if (hex ? !isxdigit((unsigned char)num[i]) : strchr("0123456789.eE+-", num[i]) == NULL)
            return -1;
    }
    if (!hex) {
        char *end;
        (void)strtod(num, &end);
        if (*end != '\0' || (k > 1 && num[0] == '0' && isdigit((unsigned char)num[1])))
            return -1; /* 1e, 1.2.3, 012 (octal in old Python) */
    }
    tide_buf_puts(o, num);
    return 0;
}

static int emit(struct writer *w, int i, bool top)
{
    if (++w->depth > MAX_DEPTH * 2)
        return -1;
    const struct node *n = node_at(w, i);
    struct tide_buf *o = w->out;
    int rc = 0;
    char name[128];
    switch (n->kind) {
    case N_NAME:
        if (name_is(n, "True"))
            tide_buf_puts(o, "true");
        else if (name_is(n, "False"))
            tide_buf_puts(o, "false");
        else if (name_is(n, "None"))
            tide_buf_puts(o, "nil");
        else if (is_self(w, n))
            rc = -1;
        else {
            tide_py_lua_name(n->s, n->n, name, sizeof name);
            tide_buf_puts(o, name);
        }
        break;
    case N_NUM:
        rc = emit_number(o, n->s, n->n);
        break;
    case N_STR: {
        struct tide_buf v = {0};
        string_value(w, n, &v);
        tide_py_lua_string(o, v.data ? v.data : "", v.len);
        tide_buf_free(&v);
        break;
    }
    case N_FSTR:
        rc = emit_fstring(w, n);
        break;
    case N_LIST:
        tide_buf_puts(o, n->count ? "{ " : "{}");
        for (int k = 0; k < n->count && rc == 0; k++) {
            tide_buf_puts(o, k ? ", " : "");
            rc = emit_kid(w, n, k, true);
        }
        tide_buf_puts(o, n->count ? " }" : "");
        break;
    case N_DICT:
        rc = emit_dict(w, n);
        break;
    case N_ATTR:
        rc = emit_attr(w, n);
        break;
    case N_CALL:
        rc = emit_call(w, n);
        break;
    case N_INDEX:
        rc = emit_index(w, n);
        break;
    case N_BIN:
        rc = emit_bin(w, n, top);
        break;
    case N_NOT:
    case N_NEG:
        tide_buf_puts(o, n->kind == N_NOT ? "not " : "-");
        rc = emit(w, n->a, false);
        break;
    case N_AND:
    case N_OR:
        tide_buf_puts(o, top ? "" : "(");
        rc = emit(w, n->a, false);
        tide_buf_puts(o, n->kind == N_AND ? " and " : " or ");
        if (rc == 0)
            rc = emit(w, n->b, false);
        tide_buf_puts(o, top ? "" : ")");
        break;
    case N_KW:
        rc = -1;
        break;
    }
    w->depth--;
    return rc;
}

static void parser_free(struct parser *ps)
{
    if (ps != NULL) {
        free(ps->toks);
        free(ps->nodes);
        free(ps->kids);
        free(ps);
    }
}

/* A parser sized for 'len' bytes of text (every table bounded by the MAX_ limits). */
static struct parser *parser_new(size_t len)
{
    struct parser *ps = calloc(1, sizeof *ps);
    if (ps == NULL)
        return NULL;
    ps->cap_tok = len + 2 < MAX_TOKENS ? (int)len + 2 : MAX_TOKENS;
    ps->cap_nodes = 2 * len + 4 < MAX_NODES ? 2 * (int)len + 4 : MAX_NODES;
    ps->cap_kids = ps->cap_nodes;
    ps->toks = calloc((size_t)ps->cap_tok, sizeof *ps->toks);
    ps->nodes = calloc((size_t)ps->cap_nodes, sizeof *ps->nodes);
    ps->kids = calloc((size_t)ps->cap_kids, sizeof *ps->kids);
    if (ps->toks == NULL || ps->nodes == NULL || ps->kids == NULL) {
        parser_free(ps);
        return NULL;
    }
    return ps;
}

int tide_py_expr(struct tide_pyctx *ctx, const char *text, size_t len, struct tide_buf *out)
{
    struct parser *ps = parser_new(len);
    if (ps == NULL)
        return -1;
    int rc = -1;
    if (tokenize(ps, text, len) && ps->ntok > 0) {
        int root = parse_expr(ps);
        bool statement = ctx->statement;
        ctx->statement = false; /* not for the expressions inside (f-strings) */
        if (statement && !ps->bad && ps->nodes[root].kind != N_CALL)
            ps->bad = true;
        if (!ps->bad && peek(ps)->kind == T_END) {
            struct tide_buf lua = {0};
            struct writer w = {ps, ctx, &lua, 0};
            unsigned needs = ctx->needs;
            bool ok = emit(&w, root, true) == 0 && !lua.failed;
            if (ok && statement) /* a Lua statement: a call, not (x[k] or d) or #x */
                ok = (isalpha((unsigned char)lua.data[0]) || lua.data[0] == '_') &&
                     lua.data[lua.len - 1] == ')';
            if (ok) {
                tide_buf_add(out, lua.data, lua.len);
                rc = 0;
            } else {
                ctx->needs = needs;
            }
            ctx->statement = statement;
            tide_buf_free(&lua);
        }
    }
    parser_free(ps);
    return rc;
}

bool tide_py_string_literal(const char *text, size_t len, struct tide_buf *out)
{
    struct parser *ps = parser_new(len);
    if (ps == NULL)
        return false;
    bool ok = tokenize(ps, text, len) && ps->ntok >= 1;
    for (int i = 0; ok && i < ps->ntok; i++)
        ok = ps->toks[i].kind == T_STR && !ps->toks[i].fstring;
    if (ok) {
        struct node n = {.kind = N_STR, .tok = 0, .count = ps->ntok};
        struct writer w = {ps, NULL, out, 0};
        string_value(&w, &n, out);
    }
    parser_free(ps);
    return ok;
}
