/* init_locust.c: a locustfile as a Lua scenario (init_locust.h). Three passes: logical lines
 * (with their physical line range, for TODO comments), then the file's top level (imports,
 * classes, functions, listeners), then the output assembled from the classes found. */
#include "init_locust.h"
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "init_pyexpr.h"

#define MAX_LINES      200000
#define MAX_LINE_BYTES (64 * 1024)
#define MAX_CLASSES    64
#define MAX_TASKS      128
#define MAX_METHODS    128
#define MAX_FUNCTIONS  256
#define MAX_LOCALS     64
#define MAX_NEST       24
#define NAME_CAP       64

struct line {
    int indent;
    int first, last; /* physical lines (0-based) */
    char *text;      /* comments stripped, joined, trimmed; a comment line: its text */
    size_t len;
    bool comment;
};

enum kind { K_USER, K_TASKSET, K_SEQUENTIAL };
enum wait { W_NONE, W_BETWEEN, W_CONSTANT, W_PACING, W_THROUGHPUT };

struct task {
    char ref[NAME_CAP];        /* a method or function name, or a TaskSet class */
    char fn[2 * NAME_CAP + 8]; /* the Lua function, when it is a method (else resolved late) */
    double weight;
};

struct klass {
    char name[NAME_CAP];
    enum kind kind;
    bool abstract, on_start, on_stop, has_weight;
    char host[1024];
    enum wait wait;
    char wait_a[128], wait_b[128];
    double weight;
    long fixed_count;
    struct task tasks[MAX_TASKS];
    int ntasks;
    char *methods[MAX_METHODS + 1];
    int nmethods;
};

struct tr {
    const char *src;
    size_t srclen;
    size_t *phys; /* offset of each physical line */
    int nphys;
    struct line *lines;
    int nlines, cap;      /* cap: at most two logical lines per physical one (`if x: y` splits) */
    struct tide_buf body; /* functions and top-level statements, in file order */
    struct klass *classes[MAX_CLASSES];
    int nclasses;
    char *functions[MAX_FUNCTIONS + 1];
    int nfunctions;
    char setup_calls[16][NAME_CAP + 2], teardown_calls[16][NAME_CAP + 2];
    int nsetup, nteardown;
    unsigned needs;
    int todos, nest;
};

/* ---------- output helpers ---------- */

static void indent_to(struct tide_buf *b, int depth)
{
    for (int i = 0; i < depth; i++)
        tide_buf_puts(b, "  ");
}

/* Copied text inside a "--" comment: a CR or another control character would end the comment
 * in Lua's eyes (or hide text), so each becomes '?'. */
static void put_comment_text(struct tide_buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char safe = (c < 0x20 && c != '\t') || c == 0x7f ? '?' : (char)c;
        tide_buf_add(b, &safe, 1);
    }
}

static void comment(struct tide_buf *b, int depth, const char *s, size_t n)
{
    indent_to(b, depth);
    tide_buf_puts(b, "-- ");
    put_comment_text(b, s, n);
    tide_buf_puts(b, "\n");
}

/* The physical lines of logical line i, each as a TODO(locust) comment. */
static void todo(struct tr *t, struct tide_buf *b, int depth, int i)
{
    const struct line *l = &t->lines[i];
    for (int p = l->first; p <= l->last && p < t->nphys; p++) {
        size_t s = t->phys[p], e = p + 1 < t->nphys ? t->phys[p + 1] : t->srclen;
        while (e > s && (t->src[e - 1] == '\n' || t->src[e - 1] == '\r' || t->src[e - 1] == ' '))
            e--;
        while (s < e && (t->src[s] == ' ' || t->src[s] == '\t'))
            s++;
        indent_to(b, depth);
        tide_buf_puts(b, "-- TODO(locust): ");
        put_comment_text(b, t->src + s, e - s > 400 ? 400 : e - s);
        tide_buf_puts(b, e - s > 400 ? " ...\n" : "\n");
    }
    t->todos++;
}

/* ---------- small text helpers ---------- */

static bool starts_word(const char *text, const char *word)
{
    size_t n = strlen(word);
    return strncmp(text, word, n) == 0 && !isalnum((unsigned char)text[n]) && text[n] != '_';
}

/* The first byte of 'text' equal to 'want' outside strings and brackets, or NULL. For '=',
 * an assignment, plain or augmented (not ==, <=, >=, !=, :=; keyword arguments are inside
 * brackets). */
static const char *find_top(const char *text, size_t len, char want)
{
    int depth = 0;
    char quote = 0;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (quote) {
            if (c == '\\')
                i++;
            else if (c == quote)
                quote = 0;
            continue;
        }
        if (c == '"' || c == '\'') {
            quote = c;
            continue;
        }
        if (c == '(' || c == '[' || c == '{')
            depth++;
        else if ((c == ')' || c == ']' || c == '}') && depth > 0)
            depth--;
        else if (depth == 0 && c == want) {
            if (want == '=' && ((i > 0 && strchr("=<>!:", text[i - 1]) != NULL) ||
                                (i + 1 < len && text[i + 1] == '=')))
                continue;
            return text + i;
        }
    }
    return NULL;
}

static bool ident(const char *s, size_t n)
{
    if (n == 0 || n >= NAME_CAP || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_')
            return false;
    return true;
}

static void trim(const char **s, size_t *n)
{
    while (*n > 0 && isspace((unsigned char)**s))
        (*s)++, (*n)--;
    while (*n > 0 && isspace((unsigned char)(*s)[*n - 1]))
        (*n)--;
}

/* ---------- logical lines ---------- */

static int add_line_split(struct tr *t, struct tide_buf *cur, int indent, int first, int last,
                          bool is_comment, bool may_split);

static int add_line(struct tr *t, struct tide_buf *cur, int indent, int first, int last,
                    bool is_comment)
{
    return add_line_split(t, cur, indent, first, last, is_comment, true);
}

static int add_line_split(struct tr *t, struct tide_buf *cur, int indent, int first, int last,
                          bool is_comment, bool may_split)
{
    size_t n = cur->len;
    const char *s = cur->data ? cur->data : "";
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        n--;
    while (n > 0 && isspace((unsigned char)*s))
        s++, n--;
    if (n == 0 && !is_comment) {
        cur->len = 0;
        return 0;
    }
    static const char *const compound[] = {"if",  "elif",   "else",    "for", "while", "with",
                                           "try", "except", "finally", "def", "class", NULL};
    for (int k = 0; may_split && !is_comment && compound[k] != NULL; k++) {
        const char *colon = starts_word(s, compound[k]) ? find_top(s, n, ':') : NULL;
        if (colon == NULL || colon + 1 >= s + n)
            continue;
        /* `if x: y` -> `if x:` and `y` one level deeper */
        struct tide_buf rest = {0};
        tide_buf_add(&rest, colon + 1, (size_t)(s + n - colon - 1));
        cur->len = (size_t)(colon + 1 - cur->data);
        int rc = add_line_split(t, cur, indent, first, last, false, false);
        if (rc == 0 && !rest.failed) /* once: `else: if x: y` is not Python */
            rc = add_line_split(t, &rest, indent + 4, first, last, false, false);
        tide_buf_free(&rest);
        return rest.failed ? -1 : rc;
    }
    if (t->nlines >= t->cap)
        return -1;
    struct line *l = &t->lines[t->nlines];
    l->text = malloc(n + 1);
    if (l->text == NULL)
        return -1;
    memcpy(l->text, s, n);
    l->text[n] = '\0';
    l->len = n, l->indent = indent, l->first = first, l->last = last, l->comment = is_comment;
    t->nlines++;
    cur->len = 0;
    return 0;
}

static int split_lines(struct tr *t)
{
    const char *s = t->src;
    size_t n = t->srclen;
    size_t nphys = 1;
    for (size_t i = 0; i < n; i++)
        nphys += s[i] == '\n';
    t->phys = malloc(nphys * sizeof *t->phys);
    t->cap = 2 * nphys < MAX_LINES ? (int)(2 * nphys) : MAX_LINES;
    t->lines = calloc((size_t)t->cap, sizeof *t->lines);
    if (t->phys == NULL || t->lines == NULL)
        return -1;
    t->phys[t->nphys++] = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '\n' && i + 1 <= n && (size_t)t->nphys < nphys)
            t->phys[t->nphys++] = i + 1;
    struct tide_buf cur = {0};
    size_t i = 0;
    int phys = 0;
    while (i < n) {
        /* the start of a logical line: its indentation */
        int indent = 0;
        while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\f')) {
            indent = s[i] == '\t' ? (indent / 8 + 1) * 8 : indent + 1;
            i++;
        }
        if (i < n && (s[i] == '\n' || s[i] == '\r')) {
            phys += s[i] == '\n';
            i++;
            continue;
        }
        if (i < n && s[i] == '#') { /* a whole-line comment */
            size_t e = i + 1;
            while (e < n && s[e] != '\n')
                e++;
            tide_buf_add(&cur, s + i + 1, e - i - 1 > 1000 ? 1000 : e - i - 1);
            if (add_line(t, &cur, indent, phys, phys, true) != 0)
                goto fail;
            i = e;
            continue;
        }
        int first = phys, depth = 0;
        char quote = 0;
        bool triple = false;
        while (i < n) {
            char c = s[i];
            if (quote != 0) {
                if (c == '\\' && i + 1 < n) {
                    if (cur.len < MAX_LINE_BYTES)
                        tide_buf_add(&cur, s + i, 2);
                    phys += s[i + 1] == '\n';
                    i += 2;
                    continue;
                }
                if (c == '\n' && !triple) { /* an unterminated string: the line ends */
                    quote = 0;
                    break;
                }
                if (c == quote &&
                    (!triple || (i + 2 < n && s[i + 1] == quote && s[i + 2] == quote))) {
                    if (cur.len < MAX_LINE_BYTES)
                        tide_buf_add(&cur, s + i, triple ? 3 : 1);
                    i += triple ? 3 : 1;
                    quote = 0;
                    continue;
                }
                phys += c == '\n';
                if (cur.len < MAX_LINE_BYTES)
                    tide_buf_add(&cur, &c, 1);
                i++;
                continue;
            }
            if (c == '"' || c == '\'') {
                quote = c;
                triple = i + 2 < n && s[i + 1] == c && s[i + 2] == c;
                if (cur.len < MAX_LINE_BYTES)
                    tide_buf_add(&cur, s + i, triple ? 3 : 1);
                i += triple ? 3 : 1;
                continue;
            }
            if (c == '#') {
                while (i < n && s[i] != '\n')
                    i++;
                continue;
            }
            if (c == '\\' && i + 1 < n && (s[i + 1] == '\n' || s[i + 1] == '\r')) {
                i += s[i + 1] == '\r' && i + 2 < n && s[i + 2] == '\n' ? 3 : 2;
                phys++;
                tide_buf_add(&cur, " ", 1);
                continue;
            }
            if (c == '\n') {
                if (depth == 0)
                    break;
                phys++;
                c = ' ';
            }
            if (c == '\r')
                c = ' ';
            if (c == '(' || c == '[' || c == '{')
                depth++;
            if ((c == ')' || c == ']' || c == '}') && depth > 0)
                depth--;
            if (cur.len < MAX_LINE_BYTES)
                tide_buf_add(&cur, &c, 1);
            i++;
        }
        if (cur.failed || add_line(t, &cur, indent, first, phys, false) != 0)
            goto fail;
        if (i < n && s[i] == '\n') {
            phys++;
            i++;
        }
    }
    tide_buf_free(&cur);
    return 0;
fail:
    tide_buf_free(&cur);
    return -1;
}

/* The end (exclusive) of the block headed by line i: the next non-comment line indented no
 * deeper than line i. */
static int block_end(struct tr *t, int i)
{
    int j = i + 1;
    while (j < t->nlines && (t->lines[j].comment || t->lines[j].indent > t->lines[i].indent))
        j++;
    while (j > i + 1 && t->lines[j - 1].comment && t->lines[j - 1].indent <= t->lines[i].indent)
        j--; /* comments after the block belong to what follows */
    return j;
}

static bool is_header(const struct line *l)
{
    return !l->comment && l->len > 0 && l->text[l->len - 1] == ':';
}

static void todo_block(struct tr *t, struct tide_buf *b, int depth, int i, int end)
{
    for (int j = i; j < end; j++) {
        if (t->lines[j].comment)
            comment(b, depth, t->lines[j].text, t->lines[j].len);
        else
            todo(t, b, depth, j);
    }
}

/* ---------- function bodies ---------- */

struct fn {
    struct tr *t;
    struct tide_pyctx px;
    const char *catch_vars[9];
    bool catch_expect[9]; /* its r.success() statuses are in the request's expect */
    int ncatch;
    char locals[MAX_LOCALS][NAME_CAP];
    int nlocals;
    char params[16][NAME_CAP + 2];
    int nparams;
    bool sequential_task; /* self.interrupt() returns "interrupt" */
};

static int expr(struct fn *f, const char *s, size_t n, struct tide_buf *b)
{
    trim(&s, &n);
    int rc = tide_py_expr(&f->px, s, n, b);
    f->t->needs |= f->px.needs;
    return rc;
}

static void add_local(struct fn *f, const char *s, size_t n)
{
    for (int i = 0; i < f->nparams; i++)
        if (strlen(f->params[i]) == n && memcmp(f->params[i], s, n) == 0)
            return;
    for (int i = 0; i < f->nlocals; i++)
        if (strlen(f->locals[i]) == n && memcmp(f->locals[i], s, n) == 0)
            return;
    if (f->nlocals < MAX_LOCALS && n < NAME_CAP) {
        memcpy(f->locals[f->nlocals], s, n);
        f->locals[f->nlocals++][n] = '\0';
    }
}

static bool is_catch_call(struct fn *f, const char *text, size_t len, const char *what,
                          const char **args, size_t *nargs)
{
    for (int i = 0; i < f->ncatch; i++) {
        size_t vn = strlen(f->catch_vars[i]), wn = strlen(what);
        if (len >= vn + wn + 3 && memcmp(text, f->catch_vars[i], vn) == 0 && text[vn] == '.' &&
            memcmp(text + vn + 1, what, wn) == 0 && text[vn + 1 + wn] == '(' &&
            text[len - 1] == ')') {
            *args = text + vn + wn + 2;
            *nargs = len - vn - wn - 3;
            return true;
        }
    }
    return false;
}

/* A check's name: the string literal 'msg' when it is one, else the source 'fallback'. */
static void check_name(struct tide_buf *b, const char *msg, size_t msglen, const char *fallback,
                       size_t fblen)
{
    struct tide_buf v = {0};
    if (msg != NULL && tide_py_string_literal(msg, msglen, &v) && v.len > 0)
        tide_py_lua_string(b, v.data, v.len > 200 ? 200 : v.len);
    else
        tide_py_lua_string(b, fallback, fblen > 200 ? 200 : fblen);
    tide_buf_free(&v);
}

static void body(struct fn *f, int i0, int i1, int depth, struct tide_buf *b);

/* if COND: r.failure(MSG) (alone) -> a check that passes when COND is false; with
 * `else: r.failure(MSG)` after `if COND: r.success()` -> a check that passes when COND holds. */
static bool catch_if(struct fn *f, int i, int end, int depth, struct tide_buf *b, int *next)
{
    struct tr *t = f->t;
    const struct line *h = &t->lines[i];
    if (f->ncatch == 0 || end != i + 2 || t->lines[i + 1].comment || h->len < 5)
        return false;
    const char *cond = h->text + 3;
    size_t clen = h->len - 4;
    const struct line *stmt = &t->lines[i + 1];
    const char *args;
    size_t nargs;
    bool negate;
    int after = end;
    const char *var = NULL;
    bool chained =
        end < t->nlines && t->lines[end].indent == h->indent &&
        (starts_word(t->lines[end].text, "elif") || starts_word(t->lines[end].text, "else"));
    if (!chained && is_catch_call(f, stmt->text, stmt->len, "failure", &args, &nargs)) {
        negate = true;
    } else if (is_catch_call(f, stmt->text, stmt->len, "success", &args, &nargs) && nargs == 0 &&
               end + 1 < t->nlines && t->lines[end].indent == h->indent &&
               strcmp(t->lines[end].text, "else:") == 0 && block_end(t, end) == end + 2 &&
               is_catch_call(f, t->lines[end + 1].text, t->lines[end + 1].len, "failure", &args,
                             &nargs)) {
        negate = false;
        after = end + 2;
    } else {
        return false;
    }
    var = stmt->text; /* "r.failure(...)": the variable is what precedes the dot */
    size_t varlen = (size_t)(strchr(var, '.') - var);
    struct tide_buf c = {0};
    if (expr(f, cond, clen, &c) != 0) {
        tide_buf_free(&c);
        return false;
    }
    indent_to(b, depth);
    tide_buf_printf(b, "tide.check(%.*s, { [", (int)varlen, var);
    check_name(b, args, nargs, cond, clen);
    tide_buf_printf(b, "] = %s(%s) })\n", negate ? "not " : "", c.data ? c.data : "");
    tide_buf_free(&c);
    *next = after;
    return true;
}

static void stmt_if(struct fn *f, int i, int depth, struct tide_buf *b, int *next)
{
    struct tr *t = f->t;
    int end = block_end(t, i);
    if (catch_if(f, i, end, depth, b, next))
        return;
    const char *kw = "if";
    int j = i;
    for (;;) {
        const struct line *h = &t->lines[j];
        struct tide_buf c = {0};
        size_t skip = strcmp(kw, "else") == 0 ? 0 : strlen(kw) + 1;
        if (strcmp(kw, "else") != 0 &&
            (h->len < skip + 2 || expr(f, h->text + skip, h->len - skip - 1, &c) != 0)) {
            todo(t, b, depth, j);
            indent_to(b, depth);
            tide_buf_printf(b, "%s false then -- the condition above\n",
                            strcmp(kw, "if") == 0 ? "if" : "elseif");
        } else if (strcmp(kw, "else") == 0) {
            indent_to(b, depth);
            tide_buf_puts(b, "else\n");
        } else {
            indent_to(b, depth);
            tide_buf_printf(b, "%s %s then\n", strcmp(kw, "if") == 0 ? "if" : "elseif",
                            c.data ? c.data : "false");
        }
        tide_buf_free(&c);
        int e = block_end(t, j);
        body(f, j + 1, e, depth + 1, b);
        j = e;
        if (j < t->nlines && t->lines[j].indent == h->indent &&
            starts_word(t->lines[j].text, "elif"))
            kw = "elif";
        else if (j < t->nlines && t->lines[j].indent == h->indent &&
                 strcmp(t->lines[j].text, "else:") == 0 && strcmp(kw, "else") != 0)
            kw = "else";
        else
            break;
    }
    indent_to(b, depth);
    tide_buf_puts(b, "end\n");
    *next = j;
}

static bool stmt_for(struct fn *f, int i, int depth, struct tide_buf *b)
{
    const struct line *h = &f->t->lines[i];
    const char *in = strstr(h->text, " in ");
    if (in == NULL || in - h->text < 4)
        return false;
    const char *var = h->text + 4;
    size_t vlen = (size_t)(in - var);
    trim(&var, &vlen);
    const char *it = in + 4;
    size_t ilen = h->len - (size_t)(it - h->text) - 1;
    trim(&it, &ilen);
    struct tide_buf e = {0};
    bool ok = false;
    const char *comma = memchr(var, ',', vlen);
    if (comma == NULL && ident(var, vlen) && ilen > 7 && strncmp(it, "range(", 6) == 0 &&
        it[ilen - 1] == ')') {
        const char *args = it + 6;
        size_t alen = ilen - 7;
        const char *c2 = find_top(args, alen, ',');
        struct tide_buf lo = {0}, hi = {0};
        if (c2 == NULL) {
            tide_buf_puts(&lo, "0");
            ok = expr(f, args, alen, &hi) == 0;
        } else {
            ok = expr(f, args, (size_t)(c2 - args), &lo) == 0 &&
                 expr(f, c2 + 1, alen - (size_t)(c2 - args) - 1, &hi) == 0;
        }
        if (ok)
            tide_buf_printf(&e, "for %.*s = %s, %s - 1 do\n", (int)vlen, var, lo.data, hi.data);
        tide_buf_free(&lo);
        tide_buf_free(&hi);
    } else if (comma == NULL && ident(var, vlen)) {
        struct tide_buf x = {0};
        ok = expr(f, it, ilen, &x) == 0;
        if (ok)
            tide_buf_printf(&e, "for _, %.*s in ipairs(%s) do\n", (int)vlen, var, x.data);
        tide_buf_free(&x);
    } else if (comma != NULL && ilen > 8 && strcmp(it + ilen - 8, ".items()") == 0) {
        const char *k = var, *v = comma + 1;
        size_t kl = (size_t)(comma - var), vl = vlen - kl - 1;
        trim(&k, &kl);
        trim(&v, &vl);
        struct tide_buf x = {0};
        ok = ident(k, kl) && ident(v, vl) && expr(f, it, ilen - 8, &x) == 0;
        if (ok)
            tide_buf_printf(&e, "for %.*s, %.*s in pairs(%s) do\n", (int)kl, k, (int)vl, v, x.data);
        tide_buf_free(&x);
    }
    if (ok && !e.failed) {
        indent_to(b, depth);
        tide_buf_add(b, e.data, e.len);
    }
    tide_buf_free(&e);
    return ok;
}

/* with self.client.X(..., catch_response=True) as r: -> do local r = http.x(...) ... end */
static bool stmt_with(struct fn *f, int i, int end, int depth, struct tide_buf *b)
{
    struct tr *t = f->t;
    const struct line *h = &t->lines[i];
    const char *as = strstr(h->text, " as ");
    if (as == NULL || as - h->text < 6 || strstr(h->text, "catch_response") == NULL ||
        f->ncatch >= 8)
        return false;
    const char *var = as + 4;
    size_t vlen = h->len - (size_t)(var - h->text) - 1;
    trim(&var, &vlen);
    if (!ident(var, vlen))
        return false;
    struct tide_buf e = {0};
    if (expr(f, h->text + 5, (size_t)(as - h->text) - 5, &e) != 0 || e.data == NULL ||
        strncmp(e.data, "http.", 5) != 0) {
        tide_buf_free(&e);
        return false;
    }
    /* `if r.status_code == 404: r.success()`: 404 is not a failure, so it goes in expect */
    char codes[64] = "";
    size_t cl = 0;
    for (int j = i + 1; j + 1 < end; j++) {
        const struct line *c = &t->lines[j];
        char want[NAME_CAP + 24];
        snprintf(want, sizeof want, "if %.*s.status_code == ", (int)vlen, var);
        const struct line *nx = &t->lines[j + 1];
        snprintf(want + strlen(want), sizeof want - strlen(want), "%s", "");
        if (c->comment || strncmp(c->text, want, strlen(want)) != 0 || nx->comment ||
            strncmp(nx->text, var, vlen) != 0 || strcmp(nx->text + vlen, ".success()") != 0)
            continue;
        int code = atoi(c->text + strlen(want));
        bool listed = code == 200 || code == 201 || code == 202 || code == 204;
        if (code >= 100 && code <= 599 && !listed && cl + 8 < sizeof codes)
            cl += (size_t)snprintf(codes + cl, sizeof codes - cl, ", %d", code);
    }
    if (cl > 0 && e.len >= 3 && strcmp(e.data + e.len - 3, "{})") == 0) {
        e.len -= 3;
        tide_buf_printf(&e, "{ expect = { 200, 201, 202, 204%s } })", codes);
    } else if (cl > 0 && e.len >= 3 && strcmp(e.data + e.len - 3, " })") == 0) {
        e.len -= 3;
        tide_buf_printf(&e, ", expect = { 200, 201, 202, 204%s } })", codes);
    }
    indent_to(b, depth);
    tide_buf_puts(b, "do -- catch_response: judge the response with checks\n");
    indent_to(b, depth + 1);
    tide_buf_printf(b, "local %.*s = %s\n", (int)vlen, var, e.data);
    tide_buf_free(&e);
    char *name = strndup(var, vlen);
    if (name == NULL)
        return false;
    f->catch_vars[f->ncatch] = name;
    f->catch_expect[f->ncatch++] = cl > 0;
    body(f, i + 1, end, depth + 1, b);
    free(name);
    f->catch_vars[--f->ncatch] = NULL;
    indent_to(b, depth);
    tide_buf_puts(b, "end\n");
    return true;
}

static bool stmt_assert(struct fn *f, const struct line *l, int depth, struct tide_buf *b)
{
    const char *cond = l->text + 6;
    size_t clen = l->len - 6;
    const char *msg = NULL;
    size_t mlen = 0;
    const char *comma = find_top(cond, clen, ',');
    if (comma != NULL) {
        msg = comma + 1;
        mlen = clen - (size_t)(comma - cond) - 1;
        clen = (size_t)(comma - cond);
    }
    trim(&cond, &clen);
    struct tide_buf c = {0};
    if (expr(f, cond, clen, &c) != 0) {
        tide_buf_free(&c);
        return false;
    }
    indent_to(b, depth);
    tide_buf_puts(b, "tide.check(nil, { [");
    if (msg != NULL) {
        check_name(b, msg, mlen, cond, clen);
    } else {
        struct tide_buf nm = {0};
        tide_buf_printf(&nm, "assert %.*s", (int)clen, cond);
        tide_py_lua_string(b, nm.data, nm.len > 200 ? 200 : nm.len);
        tide_buf_free(&nm);
    }
    tide_buf_printf(b, "] = %s })\n", c.data);
    tide_buf_free(&c);
    return true;
}

/* a.b.c or a.b[...]: a target Lua can assign to (not a call, an operator...). */
static bool lvalue(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && (isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '.'))
        i++;
    if (i == 0 || s[0] == '.' || s[i - 1] == '.' || isdigit((unsigned char)s[0]))
        return false;
    return i == n || (s[i] == '[' && s[n - 1] == ']');
}

static bool stmt_assign(struct fn *f, const struct line *l, int depth, struct tide_buf *b)
{
    const char *eq = find_top(l->text, l->len, '=');
    if (eq == NULL)
        return false;
    const char *target = l->text, *value = eq + 1;
    size_t tlen = (size_t)(eq - l->text), vlen = l->len - tlen - 1;
    char aug = 0;
    if (tlen > 0 && strchr("+-*/", target[tlen - 1]) != NULL && eq > l->text &&
        !(tlen > 1 && target[tlen - 2] == target[tlen - 1])) {
        aug = target[tlen - 1];
        tlen--;
    }
    trim(&target, &tlen);
    if (find_top(value, vlen, '=') != NULL || find_top(target, tlen, ',') != NULL ||
        memchr(target, ':', tlen) != NULL)
        return false; /* a = b = c, a, b = ..., annotations */
    struct tide_buf tv = {0}, vv = {0};
    bool ok;
    if (ident(target, tlen)) {
        char name[NAME_CAP + 2];
        tide_py_lua_name(target, tlen, name, sizeof name);
        tide_buf_puts(&tv, name);
        add_local(f, name, strlen(name));
        ok = true;
    } else {
        ok = lvalue(target, tlen) && expr(f, target, tlen, &tv) == 0 && tv.data != NULL &&
             (isalpha((unsigned char)tv.data[0]) || tv.data[0] == '_') &&
             strcspn(tv.data, "( ") >= strcspn(tv.data, "[");
    }
    ok = ok && expr(f, value, vlen, &vv) == 0;
    if (ok) {
        indent_to(b, depth);
        if (aug != 0) {
            bool concat = aug == '+' && vv.data[0] == '"';
            tide_buf_printf(b, "%s = %s %s (%s)\n", tv.data, tv.data,
                            concat ? ".." : (char[]){aug, 0}, vv.data);
        } else {
            tide_buf_printf(b, "%s = %s\n", tv.data, vv.data);
        }
    }
    tide_buf_free(&tv);
    tide_buf_free(&vv);
    return ok;
}

static bool simple_stmt(struct fn *f, int i, int depth, bool last, struct tide_buf *b)
{
    const struct line *l = &f->t->lines[i];
    const char *args;
    size_t nargs;
    if (strcmp(l->text, "pass") == 0 || starts_word(l->text, "global") ||
        starts_word(l->text, "nonlocal"))
        return true;
    if (strcmp(l->text, "break") == 0) {
        indent_to(b, depth);
        tide_buf_puts(b, "break\n");
        return true;
    }
    if (is_catch_call(f, l->text, l->len, "failure", &args, &nargs)) {
        size_t vl = (size_t)(strchr(l->text, '.') - l->text);
        indent_to(b, depth);
        tide_buf_printf(b, "tide.check(%.*s, { [", (int)vl, l->text);
        check_name(b, args, nargs, "failure", 7);
        tide_buf_puts(b, "] = false })\n");
        return true;
    }
    if (is_catch_call(f, l->text, l->len, "success", &args, &nargs) && nargs == 0 &&
        f->catch_expect[f->ncatch - 1]) {
        indent_to(b, depth);
        tide_buf_puts(b, "-- r.success(): that status is in the request's expect list\n");
        return true;
    }
    if (f->px.self_name != NULL) {
        char intr[NAME_CAP + 16];
        snprintf(intr, sizeof intr, "%s.interrupt(", f->px.self_name);
        if (strncmp(l->text, intr, strlen(intr)) == 0 ||
            strcmp(l->text, "raise RescheduleTask()") == 0 ||
            strcmp(l->text, "raise RescheduleTask") == 0) {
            indent_to(b, depth);
            tide_buf_printf(b, "%sreturn%s%s\n", last ? "" : "do ",
                            f->sequential_task ? " \"interrupt\"" : "", last ? "" : " end");
            return true;
        }
    }
    if (starts_word(l->text, "return")) {
        struct tide_buf v = {0};
        bool ok = l->len == 6 || expr(f, l->text + 7, l->len - 7, &v) == 0;
        if (ok) {
            indent_to(b, depth);
            tide_buf_printf(b, "%sreturn%s%s%s\n", last ? "" : "do ", v.len ? " " : "",
                            v.data ? v.data : "", last ? "" : " end");
        }
        tide_buf_free(&v);
        return ok;
    }
    if (starts_word(l->text, "assert"))
        return stmt_assert(f, l, depth, b);
    if (starts_word(l->text, "raise")) {
        const char *p = strchr(l->text, '(');
        if (p == NULL || l->text[l->len - 1] != ')' || p[1] == ')')
            return false;
        struct tide_buf v = {0};
        bool ok = expr(f, p + 1, l->len - (size_t)(p - l->text) - 2, &v) == 0;
        if (ok) {
            indent_to(b, depth);
            tide_buf_printf(b, "error(tostring(%s))\n", v.data);
        }
        tide_buf_free(&v);
        return ok;
    }
    if (find_top(l->text, l->len, '=') != NULL)
        return stmt_assign(f, l, depth, b);
    if (l->text[l->len - 1] != ')')
        return false; /* an expression statement that is not a call does nothing */
    struct tide_buf v = {0};
    f->px.statement = true;
    bool ok = expr(f, l->text, l->len, &v) == 0;
    f->px.statement = false;
    if (ok) {
        indent_to(b, depth);
        tide_buf_printf(b, "%s\n", v.data);
    }
    tide_buf_free(&v);
    return ok;
}

static bool stmt_while(struct fn *f, const struct line *l, int depth, struct tide_buf *b)
{
    struct tide_buf c = {0};
    bool ok = l->len > 7 && expr(f, l->text + 6, l->len - 7, &c) == 0;
    if (ok) {
        indent_to(b, depth);
        tide_buf_printf(b, "while %s do\n", c.data);
    }
    tide_buf_free(&c);
    return ok;
}

static void body(struct fn *f, int i0, int i1, int depth, struct tide_buf *b)
{
    struct tr *t = f->t;
    if (++t->nest > MAX_NEST) {
        todo_block(t, b, depth, i0, i1);
        t->nest--;
        return;
    }
    int i = i0;
    while (i < i1) {
        const struct line *l = &t->lines[i];
        if (l->comment) {
            comment(b, depth, l->text, l->len);
            i++;
            continue;
        }
        int end = is_header(l) ? block_end(t, i) : i + 1;
        if (end > i1)
            end = i1;
        struct tide_buf doc = {0};
        if (!is_header(l) && tide_py_string_literal(l->text, l->len, &doc)) { /* docstring */
            const char *s = doc.data ? doc.data : "";
            for (const char *nl; (nl = strchr(s, '\n')) != NULL; s = nl + 1)
                if (nl > s)
                    comment(b, depth, s, (size_t)(nl - s));
            if (*s)
                comment(b, depth, s, strlen(s));
            tide_buf_free(&doc);
            i++;
            continue;
        }
        tide_buf_free(&doc);
        int next = end;
        if (starts_word(l->text, "if") && is_header(l)) {
            stmt_if(f, i, depth, b, &next);
        } else if ((starts_word(l->text, "for") && is_header(l) && stmt_for(f, i, depth, b)) ||
                   (starts_word(l->text, "while") && is_header(l) && stmt_while(f, l, depth, b))) {
            body(f, i + 1, end, depth + 1, b);
            indent_to(b, depth);
            tide_buf_puts(b, "end\n");
            if (end < i1 && t->lines[end].indent == l->indent &&
                strcmp(t->lines[end].text, "else:") == 0) {
                next = block_end(t, end);
                todo_block(t, b, depth, end, next < i1 ? next : i1);
            }
        } else if (starts_word(l->text, "with") && is_header(l) && stmt_with(f, i, end, depth, b)) {
            /* done */
        } else if ((starts_word(l->text, "try") ||
                    (starts_word(l->text, "with") && !strstr(l->text, " as "))) &&
                   is_header(l)) {
            todo(t, b, depth, i); /* the body still runs, unguarded */
            body(f, i + 1, end, depth, b);
        } else if (is_header(l)) {
            todo_block(t, b, depth, i, end); /* except, finally, def inside def, class... */
        } else {
            bool last = true;
            for (int j = i + 1; j < i1; j++)
                if (!t->lines[j].comment) {
                    last = false;
                    break;
                }
            if (!simple_stmt(f, i, depth, last, b))
                todo(t, b, depth, i);
        }
        i = next > i ? next : i + 1;
    }
    t->nest--;
}

/* def NAME(params): the parameters after the first (self) when 'method'; false if not a def. */
static bool parse_def(const struct line *l, char *name, struct fn *f, bool method, char *selfname)
{
    const char *p = l->text + (l->len > 4 ? 4 : l->len), *open = strchr(p, '(');
    const char *close = open ? strrchr(open, ')') : NULL;
    selfname[0] = '\0';
    if (open == NULL || close == NULL || !ident(p, (size_t)(open - p)))
        return false;
    snprintf(name, NAME_CAP, "%.*s", (int)(open - p), p);
    const char *s = open + 1;
    int k = 0;
    while (s < close) {
        const char *e = find_top(s, (size_t)(close - s), ',');
        if (e == NULL)
            e = close;
        const char *a = s;
        size_t n = (size_t)(e - s);
        const char *stop = find_top(a, n, '=');
        const char *colon = memchr(a, ':', n);
        if (stop != NULL)
            n = (size_t)(stop - a);
        if (colon != NULL && (size_t)(colon - a) < n)
            n = (size_t)(colon - a);
        trim(&a, &n);
        if (k == 0 && method && ident(a, n)) {
            snprintf(selfname, NAME_CAP, "%.*s", (int)n, a);
        } else if (ident(a, n) && f->nparams < 16) {
            char lua[NAME_CAP + 2];
            tide_py_lua_name(a, n, lua, sizeof lua);
            snprintf(f->params[f->nparams++], NAME_CAP + 2, "%s", lua);
        }
        k++;
        s = e + 1;
    }
    return true;
}

/* Writes 'function LUANAME(params) ... end' for the def at line i. */
static void emit_function(struct tr *t, int i, const char *luaname, struct klass *k, bool method,
                          bool sequential)
{
    struct fn f = {0};
    f.t = t;
    char name[NAME_CAP], selfname[NAME_CAP];
    char prefix[NAME_CAP + 2] = "";
    parse_def(&t->lines[i], name, &f, method, selfname);
    if (k != NULL)
        snprintf(prefix, sizeof prefix, "%s_", k->name);
    f.px.self_name = selfname[0] ? selfname : NULL;
    f.px.prefix = prefix;
    f.px.methods = k != NULL ? (const char *const *)k->methods : NULL;
    f.px.functions = (const char *const *)t->functions;
    f.px.catch_vars = f.catch_vars;
    f.sequential_task = sequential;
    int end = block_end(t, i);
    struct tide_buf inner = {0};
    body(&f, i + 1, end, 1, &inner);
    tide_buf_printf(&t->body, "function %s(", luaname);
    for (int p = 0; p < f.nparams; p++)
        tide_buf_printf(&t->body, "%s%s", p ? ", " : "", f.params[p]);
    tide_buf_puts(&t->body, ")\n");
    if (f.nlocals > 0) {
        tide_buf_puts(&t->body, "  local ");
        for (int p = 0; p < f.nlocals; p++)
            tide_buf_printf(&t->body, "%s%s", p ? ", " : "", f.locals[p]);
        tide_buf_puts(&t->body, "\n");
    }
    if (inner.len > 0)
        tide_buf_add(&t->body, inner.data, inner.len);
    tide_buf_free(&inner);
    tide_buf_puts(&t->body, "end\n\n");
}

/* ---------- classes ---------- */

static struct klass *find_class(struct tr *t, const char *name, size_t n)
{
    for (int i = 0; i < t->nclasses; i++)
        if (strlen(t->classes[i]->name) == n && memcmp(t->classes[i]->name, name, n) == 0)
            return t->classes[i];
    return NULL;
}

static bool wait_time(struct tr *t, struct klass *k, const char *v, size_t n)
{
    static const struct {
        const char *name;
        enum wait w;
        int args;
    } waits[] = {{"between", W_BETWEEN, 2},
                 {"constant", W_CONSTANT, 1},
                 {"constant_pacing", W_PACING, 1},
                 {"constant_throughput", W_THROUGHPUT, 1}};
    trim(&v, &n);
    const char *open = memchr(v, '(', n);
    if (open == NULL || v[n - 1] != ')')
        return false;
    for (size_t w = 0; w < sizeof waits / sizeof waits[0]; w++) {
        if (strlen(waits[w].name) != (size_t)(open - v) ||
            memcmp(v, waits[w].name, (size_t)(open - v)) != 0)
            continue;
        const char *args = open + 1;
        size_t alen = n - (size_t)(open - v) - 2;
        const char *comma = find_top(args, alen, ',');
        if ((comma != NULL) != (waits[w].args == 2))
            return false;
        struct fn f = {0};
        f.t = t;
        f.px.functions = (const char *const *)t->functions;
        struct tide_buf a = {0}, b = {0};
        bool ok =
            expr(&f, args, comma ? (size_t)(comma - args) : alen, &a) == 0 &&
            (comma == NULL || expr(&f, comma + 1, alen - (size_t)(comma - args) - 1, &b) == 0);
        if (ok && (waits[w].w == W_PACING || waits[w].w == W_THROUGHPUT))
            ok = strtod(a.data, NULL) > 0; /* a number: the arrival rate is computed from it */
        if (ok && a.len < sizeof k->wait_a && b.len < sizeof k->wait_b) {
            k->wait = waits[w].w;
            snprintf(k->wait_a, sizeof k->wait_a, "%s", a.data);
            snprintf(k->wait_b, sizeof k->wait_b, "%s", b.data ? b.data : "");
        }
        tide_buf_free(&a);
        tide_buf_free(&b);
        return ok;
    }
    return false;
}

static void add_task(struct klass *k, const char *ref, size_t n, double weight, const char *fn)
{
    if (k->ntasks >= MAX_TASKS || n >= NAME_CAP || weight <= 0 || weight > 1e6)
        return;
    struct task *tk = &k->tasks[k->ntasks++];
    snprintf(tk->ref, sizeof tk->ref, "%.*s", (int)n, ref);
    snprintf(tk->fn, sizeof tk->fn, "%s", fn ? fn : "");
    tk->weight = weight;
}

/* tasks = [a, b] or {a: 2, b: 1} */
static bool tasks_attr(struct klass *k, const char *v, size_t n)
{
    trim(&v, &n);
    if (n < 2 || !((v[0] == '[' && v[n - 1] == ']') || (v[0] == '{' && v[n - 1] == '}')))
        return false;
    bool dict = v[0] == '{';
    const char *s = v + 1, *end = v + n - 1;
    while (s < end) {
        const char *e = find_top(s, (size_t)(end - s), ',');
        if (e == NULL)
            e = end;
        const char *item = s;
        size_t il = (size_t)(e - s);
        double w = 1;
        if (dict) {
            const char *colon = memchr(item, ':', il);
            if (colon == NULL)
                return false;
            char num[32];
            snprintf(num, sizeof num, "%.*s", (int)(e - colon - 1 < 31 ? e - colon - 1 : 31),
                     colon + 1);
            char *endp;
            w = strtod(num, &endp);
            while (isspace((unsigned char)*endp))
                endp++;
            if (*endp != '\0')
                return false;
            il = (size_t)(colon - item);
        }
        trim(&item, &il);
        if (il > 0 && !ident(item, il))
            return false;
        if (il > 0)
            add_task(k, item, il, w, NULL);
        s = e + 1;
    }
    return true;
}

static double number_attr(const char *v, size_t n, bool *ok)
{
    char num[32];
    trim(&v, &n);
    snprintf(num, sizeof num, "%.*s", (int)(n < 31 ? n : 31), v);
    char *endp;
    double d = strtod(num, &endp);
    *ok = n > 0 && n < 31 && *endp == '\0' && d >= 0 && d <= 1e6;
    return d;
}

static void do_class(struct tr *t, int i, int end);

/* @task, @task(3), @task(weight=3): the weight, or 0 when the line is not a task decorator. */
static double task_decorator(const char *text)
{
    if (strcmp(text, "@task") == 0 || strcmp(text, "@task()") == 0)
        return 1;
    if (strncmp(text, "@task(", 6) != 0)
        return 0;
    const char *p = text + 6;
    if (strncmp(p, "weight", 6) == 0) {
        p += 6;
        while (*p == ' ' || *p == '=')
            p++;
    }
    char *endp;
    double w = strtod(p, &endp);
    return *endp == ')' && endp[1] == '\0' && w > 0 && w <= 1e6 ? w : 0;
}

static void class_body(struct tr *t, struct klass *k, int i0, int i1)
{
    /* pass 1: method names, so that self.m() resolves wherever it is */
    for (int j = i0; j < i1; j++) {
        const struct line *l = &t->lines[j];
        char name[NAME_CAP];
        if (!l->comment && starts_word(l->text, "def") && k->nmethods < MAX_METHODS) {
            const char *p = l->text + (l->len > 4 ? 4 : l->len), *open = strchr(p, '(');
            if (open != NULL && ident(p, (size_t)(open - p))) {
                snprintf(name, sizeof name, "%.*s", (int)(open - p), p);
                k->methods[k->nmethods] = strdup(name);
                if (k->methods[k->nmethods] != NULL)
                    k->nmethods++;
            }
        }
    }
    double pending = 0;
    int j = i0;
    while (j < i1) {
        const struct line *l = &t->lines[j];
        int end = is_header(l) ? block_end(t, j) : j + 1;
        struct tide_buf doc = {0};
        if (l->comment) {
            comment(&t->body, 0, l->text, l->len);
        } else if (tide_py_string_literal(l->text, l->len, &doc)) {
            /* the class's docstring */
        } else if (l->text[0] == '@') {
            double w = task_decorator(l->text);
            if (w > 0)
                pending = w;
            else
                todo(t, &t->body, 0, j);
        } else if (starts_word(l->text, "def") && is_header(l)) {
            char name[NAME_CAP], lua[2 * NAME_CAP + 8];
            const char *p = l->text + (l->len > 4 ? 4 : l->len), *open = strchr(p, '(');
            snprintf(name, sizeof name, "%.*s", open ? (int)(open - p) : 0, p);
            snprintf(lua, sizeof lua, "%s_%s", k->name, name);
            if (name[0] != '\0' && ident(name, strlen(name))) {
                if (pending > 0) {
                    tide_buf_printf(&t->body, "-- @task(%g)\n", pending);
                    add_task(k, name, strlen(name), pending, lua);
                }
                k->on_start |= strcmp(name, "on_start") == 0;
                k->on_stop |= strcmp(name, "on_stop") == 0;
                emit_function(t, j, lua, k, true, k->kind == K_SEQUENTIAL);
            } else {
                todo_block(t, &t->body, 0, j, end);
            }
            pending = 0;
        } else if (starts_word(l->text, "class") && is_header(l)) {
            do_class(t, j, end);
        } else {
            const char *eq = find_top(l->text, l->len, '=');
            const char *v = eq ? eq + 1 : NULL;
            size_t an = eq ? (size_t)(eq - l->text) : 0, vn = eq ? l->len - an - 1 : 0;
            const char *a = l->text;
            trim(&a, &an);
            bool ok = false, num_ok;
            if (eq == NULL) {
                ok = strcmp(l->text, "pass") == 0;
            } else if (an == 4 && memcmp(a, "host", 4) == 0) {
                struct tide_buf s = {0};
                const char *vv = v;
                size_t vl = vn;
                trim(&vv, &vl);
                ok = tide_py_string_literal(vv, vl, &s) && s.len < sizeof k->host;
                if (ok)
                    snprintf(k->host, sizeof k->host, "%s", s.data ? s.data : "");
                tide_buf_free(&s);
            } else if (an == 9 && memcmp(a, "wait_time", 9) == 0) {
                ok = wait_time(t, k, v, vn);
            } else if (an == 6 && memcmp(a, "weight", 6) == 0) {
                k->weight = number_attr(v, vn, &num_ok);
                k->has_weight = ok = num_ok && k->weight > 0;
            } else if (an == 11 && memcmp(a, "fixed_count", 11) == 0) {
                k->fixed_count = (long)number_attr(v, vn, &num_ok);
                ok = num_ok;
            } else if (an == 8 && memcmp(a, "abstract", 8) == 0) {
                const char *vv = v;
                size_t vl = vn;
                trim(&vv, &vl);
                k->abstract = vl == 4 && memcmp(vv, "True", 4) == 0;
                ok = true;
            } else if (an == 5 && memcmp(a, "tasks", 5) == 0) {
                ok = tasks_attr(k, v, vn);
            } else if (ident(a, an)) { /* a class attribute: a global the methods read */
                struct fn f = {0};
                f.t = t;
                f.px.functions = (const char *const *)t->functions;
                struct tide_buf e = {0};
                ok = expr(&f, v, vn, &e) == 0;
                if (ok) {
                    char name[NAME_CAP + 2];
                    tide_py_lua_name(a, an, name, sizeof name);
                    tide_buf_printf(&t->body, "%s = %s -- %s.%s\n", name, e.data, k->name, name);
                }
                tide_buf_free(&e);
            }
            if (!ok)
                todo_block(t, &t->body, 0, j, end);
        }
        tide_buf_free(&doc);
        j = end;
    }
}

static void do_class(struct tr *t, int i, int end)
{
    const struct line *l = &t->lines[i];
    const char *p = l->text + 6, *open = strchr(p, '(');
    const char *close = open ? strrchr(open, ')') : NULL;
    struct klass *k = NULL;
    t->nest++;
    if (open != NULL && close != NULL && ident(p, (size_t)(open - p)) &&
        t->nclasses < MAX_CLASSES && t->nest <= MAX_NEST) {
        k = calloc(1, sizeof *k);
        if (k != NULL) {
            snprintf(k->name, sizeof k->name, "%.*s", (int)(open - p), p);
            char bases[256];
            snprintf(bases, sizeof bases, "%.*s", (int)(close - open - 1), open + 1);
            const struct klass *parent = find_class(t, bases, strlen(bases));
            if (strstr(bases, "SequentialTaskSet") != NULL)
                k->kind = K_SEQUENTIAL;
            else if (strstr(bases, "TaskSet") != NULL)
                k->kind = K_TASKSET;
            else if (strstr(bases, "User") != NULL || strstr(bases, "Locust") != NULL)
                k->kind = K_USER;
            else if (parent != NULL) { /* a subclass of a class of this file: its settings */
                k->kind = parent->kind;
                k->wait = parent->wait;
                memcpy(k->host, parent->host, sizeof k->host);
                memcpy(k->wait_a, parent->wait_a, sizeof k->wait_a);
                memcpy(k->wait_b, parent->wait_b, sizeof k->wait_b);
            } else {
                free(k);
                k = NULL;
            }
        }
    }
    if (k == NULL || find_class(t, k->name, strlen(k->name)) != NULL) {
        free(k);
        todo_block(t, &t->body, 0, i, end);
        t->nest--;
        return;
    }
    t->classes[t->nclasses++] = k;
    tide_buf_puts(&t->body, "-- class ");
    put_comment_text(&t->body, l->text + 6, l->len < 7 ? 0 : l->len - 7 < 300 ? l->len - 7 : 300);
    tide_buf_puts(&t->body, "\n");
    class_body(t, k, i + 1, end);
    t->nest--;
}

/* ---------- top level ---------- */

static bool known_import(const char *text)
{
    static const char *const modules[] = {"locust", "random", "json", "time",   "uuid", "string",
                                          "os",     "gevent", "math", "typing", NULL};
    size_t skip = starts_word(text, "import") ? 7 : 5;
    const char *p = text + (strlen(text) > skip ? skip : strlen(text));
    for (int i = 0; modules[i] != NULL; i++) {
        size_t n = strlen(modules[i]);
        if (strncmp(p, modules[i], n) == 0 &&
            (p[n] == ' ' || p[n] == '.' || p[n] == '\0' || p[n] == ','))
            return !(starts_word(text, "import") && strchr(p, ',') != NULL);
    }
    return false;
}

static void top_level(struct tr *t)
{
    /* pass 1: the file's functions, so calls to them translate */
    for (int i = 0; i < t->nlines; i++) {
        const struct line *l = &t->lines[i];
        if (!l->comment && l->indent == 0 && starts_word(l->text, "def") &&
            t->nfunctions < MAX_FUNCTIONS) {
            const char *p = l->text + (l->len > 4 ? 4 : l->len), *open = strchr(p, '(');
            if (open != NULL && ident(p, (size_t)(open - p))) {
                t->functions[t->nfunctions] = strndup(p, (size_t)(open - p));
                if (t->functions[t->nfunctions] != NULL)
                    t->nfunctions++;
            }
        }
    }
    const char *listener = NULL;
    int i = 0;
    while (i < t->nlines) {
        const struct line *l = &t->lines[i];
        int end = is_header(l) ? block_end(t, i) : i + 1;
        struct tide_buf doc = {0};
        if (l->comment) {
            comment(&t->body, 0, l->text, l->len);
        } else if (l->indent != 0) {
            todo(t, &t->body, 0, i);
        } else if (tide_py_string_literal(l->text, l->len, &doc)) {
            const char *s = doc.data ? doc.data : "";
            for (const char *nl; (nl = strchr(s, '\n')) != NULL; s = nl + 1)
                comment(&t->body, 0, s, (size_t)(nl - s));
            if (*s)
                comment(&t->body, 0, s, strlen(s));
        } else if (starts_word(l->text, "import") || starts_word(l->text, "from")) {
            if (!known_import(l->text))
                todo(t, &t->body, 0, i);
        } else if (l->text[0] == '@') {
            if (strcmp(l->text, "@events.test_start.add_listener") == 0 ||
                strcmp(l->text, "@events.init.add_listener") == 0)
                listener = "setup";
            else if (strcmp(l->text, "@events.test_stop.add_listener") == 0)
                listener = "teardown";
            else {
                listener = "todo";
                todo(t, &t->body, 0, i);
            }
        } else if (starts_word(l->text, "def") && is_header(l)) {
            char name[NAME_CAP], lua[NAME_CAP + 2];
            const char *p = l->text + (l->len > 4 ? 4 : l->len), *open = strchr(p, '(');
            snprintf(name, sizeof name, "%.*s", open ? (int)(open - p) : 0, p);
            if (listener != NULL && strcmp(listener, "todo") == 0) {
                todo_block(t, &t->body, 0, i, end);
            } else if (name[0] != '\0' && ident(name, strlen(name))) {
                tide_py_lua_name(name, strlen(name), lua, sizeof lua);
                /* a task function def f(user): its first parameter is the user */
                const char *arg = open + 1;
                while (*arg == ' ')
                    arg++;
                bool user_arg =
                    listener == NULL && (starts_word(arg, "self") || starts_word(arg, "user") ||
                                         starts_word(arg, "l") || starts_word(arg, "locust"));
                if (listener != NULL)
                    tide_buf_printf(&t->body, "-- events.%s listener: called by %s()\n",
                                    strcmp(listener, "setup") == 0 ? "test_start" : "test_stop",
                                    listener);
                emit_function(t, i, lua, NULL, user_arg, false);
                if (listener != NULL && strcmp(listener, "setup") == 0 && t->nsetup < 16)
                    snprintf(t->setup_calls[t->nsetup++], NAME_CAP + 2, "%s", lua);
                if (listener != NULL && strcmp(listener, "teardown") == 0 && t->nteardown < 16)
                    snprintf(t->teardown_calls[t->nteardown++], NAME_CAP + 2, "%s", lua);
            } else {
                todo_block(t, &t->body, 0, i, end);
            }
            listener = NULL;
        } else if (starts_word(l->text, "class") && is_header(l)) {
            do_class(t, i, end);
        } else {
            struct fn f = {0};
            f.t = t;
            f.px.functions = (const char *const *)t->functions;
            size_t before = t->body.len;
            if (is_header(l) || !simple_stmt(&f, i, 0, false, &t->body)) {
                t->body.len = before;
                todo_block(t, &t->body, 0, i, end);
            }
        }
        tide_buf_free(&doc);
        i = end;
    }
}

/* ---------- output ---------- */

static void resolve_tasks(struct tr *t, struct klass *k, struct tide_buf *b)
{
    tide_buf_printf(b, "tasks_%s = {", k->name);
    int n = 0;
    for (int i = 0; i < k->ntasks; i++) {
        struct task *tk = &k->tasks[i];
        char fn[2 * NAME_CAP + 8] = "";
        const struct klass *set = find_class(t, tk->ref, strlen(tk->ref));
        if (tk->fn[0] != '\0')
            snprintf(fn, sizeof fn, "%s", tk->fn);
        else if (set != NULL && set->kind != K_USER)
            snprintf(fn, sizeof fn, "run_%s", set->name);
        else {
            for (int m = 0; m < k->nmethods; m++)
                if (strcmp(k->methods[m], tk->ref) == 0)
                    snprintf(fn, sizeof fn, "%s_%s", k->name, tk->ref);
            for (int m = 0; fn[0] == '\0' && m < t->nfunctions; m++)
                if (strcmp(t->functions[m], tk->ref) == 0)
                    tide_py_lua_name(tk->ref, strlen(tk->ref), fn, sizeof fn);
        }
        if (fn[0] == '\0') {
            tide_buf_printf(b, "\n  -- TODO(locust): task %s of %s: not found in this file",
                            tk->ref, k->name);
            t->todos++;
            continue;
        }
        tide_buf_printf(b, "\n  { %g, %s },", tk->weight, fn);
        n++;
    }
    tide_buf_puts(b, n || k->ntasks ? "\n}\n" : "}\n");
}

static void wait_line(const struct klass *k, struct tide_buf *b, int depth, bool guarded)
{
    if (k->wait == W_BETWEEN || k->wait == W_CONSTANT) {
        indent_to(b, depth);
        tide_buf_printf(b, "%s%s(%s%s%s)%s -- wait_time = %s(%s%s%s)\n",
                        guarded ? "if done ~= WAITED then " : "",
                        k->wait == W_BETWEEN ? "tide.think" : "tide.sleep", k->wait_a,
                        k->wait == W_BETWEEN ? ", " : "", k->wait_b, guarded ? " end" : "",
                        k->wait == W_BETWEEN ? "between" : "constant", k->wait_a,
                        k->wait == W_BETWEEN ? ", " : "", k->wait_b);
    } else if (k->wait == W_PACING || k->wait == W_THROUGHPUT) {
        indent_to(b, depth);
        tide_buf_printf(b, "-- wait_time = %s(%s): kept by the scenario's arrival rate (options)\n",
                        k->wait == W_PACING ? "constant_pacing" : "constant_throughput", k->wait_a);
    }
}

static void runner(struct tr *t, struct klass *k, bool lazy_start, struct tide_buf *b)
{
    resolve_tasks(t, k, b);
    if (k->kind == K_USER)
        tide_buf_printf(b, "function run_%s() -- one iteration: one task, then the wait\n",
                        k->name);
    else
        tide_buf_printf(b, "function run_%s() -- TaskSet: %s each time it is picked\n", k->name,
                        k->kind == K_SEQUENTIAL ? "all its tasks in order" : "one of its tasks");
    if (k->on_start && (lazy_start || k->kind != K_USER))
        tide_buf_printf(
            b, "  if not started.%s then\n    started.%s = true\n    %s_on_start()\n  end\n",
            k->name, k->name, k->name);
    if (k->kind == K_SEQUENTIAL) {
        tide_buf_printf(
            b, "  for _, t in ipairs(tasks_%s) do\n    if t[2]() == \"interrupt\" then break end\n",
            k->name);
        wait_line(k, b, 2, false);
        tide_buf_puts(b, "  end\n");
    } else if (k->kind == K_TASKSET) {
        tide_buf_printf(b, "  pick(tasks_%s)\n", k->name);
        wait_line(k, b, 1, false);
    } else {
        tide_buf_printf(b, "  local done = pick(tasks_%s)\n", k->name);
        wait_line(k, b, 1, true);
    }
    if (k->kind != K_USER && k->wait != W_NONE)
        tide_buf_puts(b, "  return WAITED -- the user does not wait again\n");
    tide_buf_puts(b, "end\n\n");
}

static const char prelude[] =
    "-- A weighted choice, like Locust's @task(N): tasks = { { weight, function }, ... }\n"
    "local function pick(tasks)\n"
    "  local total = 0\n"
    "  for _, t in ipairs(tasks) do total = total + t[1] end\n"
    "  local r = math.random() * total\n"
    "  for _, t in ipairs(tasks) do\n"
    "    r = r - t[1]\n"
    "    if r < 0 then return t[2]() end\n"
    "  end\n"
    "  if #tasks > 0 then return tasks[#tasks][2]() end\n"
    "end\n"
    "WAITED = {} -- what a TaskSet with its own wait_time returns\n"
    "started = {} -- per VU: the classes whose on_start ran\n";

static void helpers(unsigned needs, struct tide_buf *b)
{
    if (needs & TIDE_PY_NEEDS_CHOICE)
        tide_buf_puts(
            b,
            "local function choice(list) return list[math.random(#list)] end -- random.choice\n");
    if (needs & TIDE_PY_NEEDS_UNIFORM)
        tide_buf_puts(b, "local function uniform(a, b) return a + math.random() * (b - a) end -- "
                         "random.uniform\n");
    if (needs & TIDE_PY_NEEDS_UUID)
        tide_buf_puts(b, "local function uuid4() -- uuid.uuid4(): a random version 4 UUID\n"
                         "  return (string.gsub(\"xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx\", "
                         "\"[xy]\", function(c)\n"
                         "    return string.format(\"%x\", c == \"x\" and math.random(0, 15) or "
                         "math.random(8, 11))\n"
                         "  end))\n"
                         "end\n");
}

static bool arrival(const struct klass *k)
{
    return k->wait == W_PACING || k->wait == W_THROUGHPUT;
}

static void scenarios(struct tr *t, struct klass **users, int n, struct tide_buf *b)
{
    double weights = 0;
    long fixed = 0;
    for (int i = 0; i < n; i++) {
        if (users[i]->fixed_count > 0)
            fixed += users[i]->fixed_count;
        else
            weights += users[i]->has_weight ? users[i]->weight : 1;
    }
    tide_buf_puts(
        b,
        "-- Locust's -u and -t for the scenarios below (with -u/-t flags tide runs run() instead)\n"
        "local USERS = 10\n"
        "local RUN_TIME = \"1m\"\n");
    tide_buf_printf(b,
                    "-- each class's users: fixed_count, or a share of the rest by weight\n"
                    "local function share(weight)\n"
                    "  return math.max(1, math.floor((USERS - %ld) * weight / %g + 0.5))\n"
                    "end\n\n",
                    fixed, weights > 0 ? weights : 1);
    (void)t;
    tide_buf_puts(b, "options = {\n");
    tide_buf_puts(b, "  scenarios = {\n");
    for (int i = 0; i < n; i++) {
        const struct klass *k = users[i];
        char vus[64];
        if (k->fixed_count > 0)
            snprintf(vus, sizeof vus, "%ld", k->fixed_count);
        else
            snprintf(vus, sizeof vus, "share(%g)", k->has_weight ? k->weight : 1);
        if (arrival(k)) {
            double every = strtod(k->wait_a, NULL);
            if (k->wait == W_THROUGHPUT)
                every = 1 / every;
            tide_buf_printf(b,
                            "    %s = { executor = \"constant-arrival-rate\", exec = \"run_%s\",\n"
                            "      -- %s(%s): each user starts a task every %gs\n"
                            "      rate = %s, time_unit = \"%gs\", duration = RUN_TIME, "
                            "pre_allocated_vus = %s },\n",
                            k->name, k->name,
                            k->wait == W_PACING ? "constant_pacing" : "constant_throughput",
                            k->wait_a, every, vus, every, vus);
        } else {
            tide_buf_printf(b,
                            "    %s = { executor = \"constant-vus\", exec = \"run_%s\", vus = %s, "
                            "duration = RUN_TIME },\n",
                            k->name, k->name, vus);
        }
    }
    tide_buf_puts(b, "  },\n");
}

static void assemble(struct tr *t, const char *script, const char *host, struct tide_buf *b)
{
    struct klass *users[MAX_CLASSES];
    int n = 0;
    bool any_arrival = false;
    const char *class_host = NULL;
    for (int i = 0; i < t->nclasses; i++) {
        struct klass *k = t->classes[i];
        if (k->kind == K_USER && !k->abstract) {
            users[n++] = k;
            any_arrival |= arrival(k);
            if (class_host == NULL && k->host[0] != '\0')
                class_host = k->host;
        }
    }
    tide_buf_puts(b, "-- ");
    put_comment_text(b, script, strlen(script));
    tide_buf_puts(b,
                  ": translated from a locustfile by `tide init --from-locust` (a best effort).\n"
                  "-- Lines marked TODO(locust) were not translated: finish them by hand.\n"
                  "-- docs/from-locust.md maps Locust's concepts to tide's.\n"
                  "-- Run it with Locust's flags: tide -f THIS.lua --headless -u 10 -r 2 -t 1m\n");
    tide_buf_puts(b, "local http = require \"tide.http\"\nlocal tide = require \"tide\"\n");
    if (t->needs & TIDE_PY_NEEDS_JSON)
        tide_buf_puts(b, "local json = require \"tide.json\"\n");
    tide_buf_puts(b, "\n");
    if (n > 1 || any_arrival)
        scenarios(t, users, n, b);
    else
        tide_buf_puts(b, "options = {\n");
    const char *h = host != NULL ? host : class_host;
    if (h != NULL) {
        tide_buf_puts(b, "  host = ");
        tide_py_lua_string(b, h, strlen(h));
        tide_buf_puts(b, ",\n");
    }
    for (int i = 0; i < n; i++)
        if (users[i]->host[0] != '\0' && (h == NULL || strcmp(users[i]->host, h) != 0)) {
            tide_buf_printf(b, "  -- TODO(locust): %s.host = ", users[i]->name);
            put_comment_text(b, users[i]->host, strlen(users[i]->host));
            tide_buf_puts(b, " (tide has one host per run: use full URLs)\n");
            t->todos++;
        }
    tide_buf_puts(b, "}\n\n");
    tide_buf_puts(b, prelude);
    helpers(t->needs, b);
    tide_buf_puts(b, "\n");
    tide_buf_add(b, t->body.data ? t->body.data : "", t->body.len);
    tide_buf_puts(b, "-- ---- tasks, weights and waits ----\n\n");
    for (int i = 0; i < t->nclasses; i++)
        if (t->classes[i]->kind != K_USER)
            runner(t, t->classes[i], true, b);
    for (int i = 0; i < n; i++)
        runner(t, users[i], n > 1, b);
    if (t->nsetup > 0) {
        tide_buf_puts(b, "function setup() -- events.test_start\n");
        for (int i = 0; i < t->nsetup; i++)
            tide_buf_printf(b, "  %s()\n", t->setup_calls[i]);
        tide_buf_puts(b, "end\n\n");
    }
    if (t->nteardown > 0) {
        tide_buf_puts(b, "function teardown() -- events.test_stop\n");
        for (int i = 0; i < t->nteardown; i++)
            tide_buf_printf(b, "  %s()\n", t->teardown_calls[i]);
        tide_buf_puts(b, "end\n\n");
    }
    if (n == 1 && users[0]->on_start)
        tide_buf_printf(b, "function vu_setup() %s_on_start() end -- on_start\n", users[0]->name);
    bool stops = false;
    for (int i = 0; i < n; i++)
        stops |= users[i]->on_stop;
    for (int i = 0; i < t->nclasses; i++)
        stops |= t->classes[i]->kind != K_USER && t->classes[i]->on_stop;
    if (stops) {
        tide_buf_puts(b, "function vu_teardown() -- on_stop\n");
        for (int i = 0; i < t->nclasses; i++) {
            const struct klass *k = t->classes[i];
            if (!k->on_stop || (k->kind == K_USER && k->abstract))
                continue;
            if (n == 1 && k == users[0])
                tide_buf_printf(b, "  %s_on_stop()\n", k->name);
            else
                tide_buf_printf(b, "  if started.%s then %s_on_stop() end\n", k->name, k->name);
        }
        tide_buf_puts(b, "end\n");
    }
    /* lazily started classes mark themselves; a single user class starts in vu_setup */
    if (n == 0) {
        tide_buf_puts(b, "-- TODO(locust): no HttpUser class found: write run() by hand\n"
                         "function run() end\n");
        t->todos++;
    } else if (n == 1) {
        tide_buf_printf(b, "function run() run_%s() end\n", users[0]->name);
    } else {
        tide_buf_puts(
            b,
            "-- with Locust's -u/-t flags (one scenario): each iteration picks a class by weight\n"
            "function run()\n  pick({");
        for (int i = 0; i < n; i++)
            tide_buf_printf(b, "%s{ %g, run_%s }", i ? ", " : " ",
                            users[i]->fixed_count > 0
                                ? (double)users[i]->fixed_count
                                : (users[i]->has_weight ? users[i]->weight : 1),
                            users[i]->name);
        tide_buf_puts(b, " })\nend\n");
    }
}

int tide_locust_translate(const char *src, size_t len, const char *script, const char *host,
                          struct tide_locust_result *out, struct tide_err *err)
{
    memset(out, 0, sizeof *out);
    if (len > TIDE_LOCUST_MAX_BYTES)
        return tide_err_set(err, "the locustfile is larger than %d bytes", TIDE_LOCUST_MAX_BYTES);
    if (memchr(src, '\0', len) != NULL)
        return tide_err_set(err, "the locustfile is not text (it holds a NUL byte)");
    struct tr *t = calloc(1, sizeof *t);
    if (t == NULL)
        return tide_err_set(err, "out of memory");
    t->src = src;
    t->srclen = len;
    int rc = -1;
    struct tide_buf b = {0};
    if (split_lines(t) != 0) {
        tide_err_set(err, "out of memory (or more than %d lines)", MAX_LINES);
        goto done;
    }
    top_level(t);
    assemble(t, script, host, &b);
    if (b.failed || t->body.failed) {
        tide_err_set(err, "out of memory");
        goto done;
    }
    out->lua = b.data;
    b.data = NULL;
    out->todos = t->todos;
    for (int i = 0; i < t->nclasses; i++) {
        out->users += t->classes[i]->kind == K_USER && !t->classes[i]->abstract;
        out->tasks += t->classes[i]->ntasks;
    }
    rc = 0;
done:
    tide_buf_free(&b);
    tide_buf_free(&t->body);
    for (int i = 0; i < t->nlines; i++)
        free(t->lines[i].text);
    for (int i = 0; i < t->nclasses; i++) {
        for (int m = 0; m < t->classes[i]->nmethods; m++)
            free(t->classes[i]->methods[m]);
        free(t->classes[i]);
    }
    for (int i = 0; i < t->nfunctions; i++)
        free(t->functions[i]);
    free(t->lines);
    free(t->phys);
    free(t);
    return rc;
}

void tide_locust_result_free(struct tide_locust_result *r)
{
    free(r->lua);
    memset(r, 0, sizeof *r);
}
