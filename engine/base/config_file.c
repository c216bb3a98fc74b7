/* config_file.c: a TOML subset and locust.conf into entries (config_file.h). One pass over the
 * text with a cursor; values are copied out, so the entries outlive the text. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "config_file.h"

#define MAX_ENTRIES 10000 /* keys in one file: far more than any flag table; bounds the work */

struct cur {
    const char *p, *end;
    int line;
    struct tide_err *err;
};

static int fail(struct cur *c, const char *what)
{
    return tide_err_set(c->err, "line %d: %s", c->line, what);
}

static void skip_blanks(struct cur *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
        c->p++;
}

static bool at_line_end(const struct cur *c)
{
    return c->p == c->end || *c->p == '\n' || *c->p == '\r' || *c->p == '#';
}

/* Past blanks and a comment, at the end of the line (the '\n' consumed). */
static int end_line(struct cur *c)
{
    skip_blanks(c);
    if (c->p < c->end && *c->p == '#') {
        while (c->p < c->end && *c->p != '\n')
            c->p++;
    }
    if (c->p < c->end && *c->p == '\r')
        c->p++;
    if (c->p == c->end)
        return 0;
    if (*c->p != '\n')
        return fail(c, "unexpected text after the value (one key = value per line)");
    c->p++;
    c->line++;
    return 0;
}

static bool bare_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '-';
}

static char *bare_key(struct cur *c)
{
    const char *start = c->p;
    while (c->p < c->end && bare_char(*c->p))
        c->p++;
    if (c->p == start)
        return NULL;
    return strndup(start, (size_t)(c->p - start));
}

static int add_entry(struct tide_conf *out, const char *section, char *key,
                     enum tide_conf_kind kind, int line)
{
    if (out->n == MAX_ENTRIES) {
        free(key);
        return -1;
    }
    struct tide_conf_entry *g = realloc(out->entries, (size_t)(out->n + 1) * sizeof *g);
    char *sec = strdup(section);
    if (g == NULL || sec == NULL) {
        if (g != NULL)
            out->entries = g;
        free(sec);
        free(key);
        return -1;
    }
    out->entries = g;
    g[out->n] = (struct tide_conf_entry){sec, key, kind, NULL, 0, line};
    out->n++;
    return 0;
}

/* Appends a value (owned: freed on failure) to the last entry. */
static int add_value(struct tide_conf *out, char *v)
{
    struct tide_conf_entry *e = &out->entries[out->n - 1];
    char **g = v != NULL ? realloc(e->values, (size_t)(e->nvalues + 1) * sizeof *g) : NULL;
    if (g == NULL) {
        free(v);
        return -1;
    }
    e->values = g;
    g[e->nvalues++] = v;
    return 0;
}

static void put_utf8(struct tide_buf *b, uint32_t cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp, n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6)), u[1] = (char)(0x80 | (cp & 0x3F)), n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12)), u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F)), n = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18)), u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F)), u[3] = (char)(0x80 | (cp & 0x3F)), n = 4;
    }
    tide_buf_append(b, u, n);
}

/* \uXXXX or \UXXXXXXXX after the 'u'/'U'; -1 when bad. */
static int unicode_escape(struct cur *c, int digits, struct tide_buf *b)
{
    uint32_t cp = 0;
    for (int i = 0; i < digits; i++, c->p++) {
        if (c->p == c->end)
            return -1;
        char ch = *c->p;
        int d = ch >= '0' && ch <= '9'   ? ch - '0'
                : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
                : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
                                         : -1;
        if (d < 0)
            return -1;
        cp = cp * 16 + (uint32_t)d;
    }
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return -1;
    put_utf8(b, cp);
    return 0;
}

static int escape(struct cur *c, struct tide_buf *b)
{
    if (c->p == c->end)
        return -1;
    char ch = *c->p++;
    static const char from[] = "\"\\btnfr", to[] = "\"\\\b\t\n\f\r";
    const char *hit = ch != '\0' ? strchr(from, ch) : NULL;
    if (hit != NULL) {
        tide_buf_append(b, &to[hit - from], 1);
        return 0;
    }
    if (ch == 'u' || ch == 'U')
        return unicode_escape(c, ch == 'u' ? 4 : 8, b);
    return -1;
}

/* A "basic" or 'literal' string at the cursor (on its quote); NULL after fail(). */
static char *string_value(struct cur *c)
{
    char quote = *c->p++;
    if (c->end - c->p >= 2 && c->p[0] == quote && c->p[1] == quote) {
        fail(c, "multi-line strings are not supported (tide.toml is a TOML subset)");
        return NULL;
    }
    struct tide_buf b = {0};
    for (;;) {
        if (c->p == c->end || *c->p == '\n' || *c->p == '\r') {
            tide_buf_free(&b);
            fail(c, "unterminated string");
            return NULL;
        }
        char ch = *c->p++;
        if (ch == quote)
            break;
        if (ch == '\0' || ((unsigned char)ch < 0x20 && ch != '\t')) {
            tide_buf_free(&b);
            fail(c, "control character in a string");
            return NULL;
        }
        if (ch == '\\' && quote == '"') {
            if (escape(c, &b) != 0) {
                tide_buf_free(&b);
                fail(c, "bad escape in a string (\\\" \\\\ \\n \\t \\uXXXX...)");
                return NULL;
            }
            continue;
        }
        tide_buf_append(&b, &ch, 1);
    }
    char *s = strndup(b.data != NULL ? b.data : "", b.len);
    tide_buf_free(&b);
    if (s == NULL)
        fail(c, "out of memory");
    return s;
}

static bool value_end(const struct cur *c)
{
    return at_line_end(c) || *c->p == ' ' || *c->p == '\t' || *c->p == ',' || *c->p == ']';
}

/* An integer or decimal, TOML's way (1_000 allowed), stored without '_' or a leading '+'. */
static char *number_value(struct cur *c)
{
    struct tide_buf b = {0};
    if (*c->p == '+' || *c->p == '-') {
        if (*c->p == '-')
            tide_buf_append(&b, "-", 1);
        c->p++;
    }
    int digits = 0, dots = 0, exps = 0;
    char prev = 0;
    while (c->p < c->end && !value_end(c)) {
        char ch = *c->p;
        bool ok = (ch >= '0' && ch <= '9') ||
                  (ch == '_' && prev >= '0' && prev <= '9' && c->p + 1 < c->end && c->p[1] >= '0' &&
                   c->p[1] <= '9') ||
                  (ch == '.' && dots == 0 && exps == 0 && prev >= '0' && prev <= '9') ||
                  ((ch == 'e' || ch == 'E') && exps == 0 && prev >= '0' && prev <= '9') ||
                  ((ch == '+' || ch == '-') && (prev == 'e' || prev == 'E'));
        if (!ok) {
            tide_buf_free(&b);
            fail(c, "bad number (dates, hex, inf and nan are not supported)");
            return NULL;
        }
        digits += ch >= '0' && ch <= '9';
        dots += ch == '.';
        exps += ch == 'e' || ch == 'E';
        if (ch != '_')
            tide_buf_append(&b, &ch, 1);
        prev = ch;
        c->p++;
    }
    if (digits == 0 || !(prev >= '0' && prev <= '9')) {
        tide_buf_free(&b);
        fail(c, "bad number");
        return NULL;
    }
    char *s = strndup(b.data, b.len);
    tide_buf_free(&b);
    return s;
}

/* Past blanks, newlines and comments inside an array. */
static void skip_array_space(struct cur *c)
{
    for (;;) {
        skip_blanks(c);
        if (c->p < c->end && *c->p == '#') {
            while (c->p < c->end && *c->p != '\n')
                c->p++;
        }
        if (c->p < c->end && (*c->p == '\n' || *c->p == '\r')) {
            c->line += *c->p == '\n';
            c->p++;
            continue;
        }
        return;
    }
}

static int array_value(struct cur *c, struct tide_conf *out)
{
    c->p++; /* '[' */
    for (;;) {
        skip_array_space(c);
        if (c->p == c->end)
            return fail(c, "unterminated array (a ']' is missing)");
        if (*c->p == ']') {
            c->p++;
            return 0;
        }
        if (*c->p != '"' && *c->p != '\'')
            return fail(c, "arrays hold strings only, e.g. [\"a=1\", \"b=2\"]");
        char *s = string_value(c);
        if (s == NULL)
            return -1;
        if (add_value(out, s) != 0)
            return fail(c, "out of memory");
        skip_array_space(c);
        if (c->p < c->end && *c->p == ',')
            c->p++;
        else if (c->p < c->end && *c->p != ']')
            return fail(c, "expected ',' or ']' in an array");
    }
}

static int toml_value(struct cur *c, struct tide_conf *out)
{
    struct tide_conf_entry *e = &out->entries[out->n - 1];
    if (c->p == c->end || at_line_end(c))
        return fail(c, "a value is missing after '='");
    char ch = *c->p;
    if (ch == '[') {
        e->kind = TIDE_CONF_ARRAY;
        return array_value(c, out);
    }
    char *v = NULL;
    if (ch == '"' || ch == '\'') {
        v = string_value(c);
        if (v == NULL)
            return -1;
    } else if ((ch >= '0' && ch <= '9') || ch == '+' || ch == '-') {
        e->kind = TIDE_CONF_NUMBER;
        if ((v = number_value(c)) == NULL)
            return -1;
    } else {
        const char *start = c->p;
        while (c->p < c->end && !value_end(c))
            c->p++;
        size_t n = (size_t)(c->p - start);
        if ((n == 4 && memcmp(start, "true", 4) == 0) ||
            (n == 5 && memcmp(start, "false", 5) == 0)) {
            e->kind = TIDE_CONF_BOOL;
            v = strndup(start, n);
        } else {
            return fail(c, "expected a value: a \"string\", a number, true, false or [\"a\", "
                           "\"b\"] (inline tables are not supported)");
        }
    }
    return add_value(out, v) == 0 ? 0 : fail(c, "out of memory");
}

static bool duplicate(const struct tide_conf *out, const char *section, const char *key)
{
    for (int i = 0; i < out->n; i++) {
        if (strcmp(out->entries[i].section, section) == 0 && strcmp(out->entries[i].key, key) == 0)
            return true;
    }
    return false;
}

static int toml_table(struct cur *c, char **section)
{
    c->p++;
    if (c->p < c->end && *c->p == '[')
        return fail(c, "arrays of tables ([[...]]) are not supported");
    skip_blanks(c);
    char *name = bare_key(c);
    skip_blanks(c);
    if (name == NULL || c->p == c->end || *c->p != ']') {
        free(name);
        return fail(c, "expected [name] (letters, digits, '_' and '-'; no dotted names)");
    }
    c->p++;
    free(*section);
    *section = name;
    return end_line(c);
}

static int toml_line(struct cur *c, char **section, struct tide_conf *out)
{
    if (*c->p == '[')
        return toml_table(c, section);
    int line = c->line;
    char *key = bare_key(c);
    if (key == NULL)
        return fail(c, "expected key = value (bare keys: letters, digits, '_' and '-')");
    skip_blanks(c);
    if (c->p < c->end && *c->p == '.') {
        free(key);
        return fail(c, "dotted keys are not supported (use a [section])");
    }
    if (c->p == c->end || *c->p != '=') {
        free(key);
        return fail(c, "expected '=' after the key");
    }
    if (duplicate(out, *section, key)) {
        char msg[160];
        snprintf(msg, sizeof msg, "key \"%.60s\" is given twice", key);
        free(key);
        return fail(c, msg);
    }
    if (add_entry(out, *section, key, TIDE_CONF_STRING, line) != 0)
        return fail(c, "too many keys");
    c->p++;
    skip_blanks(c);
    if (toml_value(c, out) != 0)
        return -1;
    return end_line(c);
}

static int parse_toml(struct cur *c, struct tide_conf *out)
{
    char *section = strdup("");
    int rc = section != NULL ? 0 : fail(c, "out of memory");
    while (rc == 0 && c->p < c->end) {
        skip_blanks(c);
        if (at_line_end(c))
            rc = end_line(c);
        else
            rc = toml_line(c, &section, out);
    }
    free(section);
    return rc;
}

static void free_entry(struct tide_conf_entry *e)
{
    free(e->section);
    free(e->key);
    for (int v = 0; v < e->nvalues; v++)
        free(e->values[v]);
    free(e->values);
}

/* --- locust.conf --- */

static char *trimmed(const char *s, size_t n)
{
    while (n > 0 && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        n--;
    if (n >= 2 && (s[0] == '"' || s[0] == '\'') && s[n - 1] == s[0])
        s++, n -= 2;
    return strndup(s, n);
}

/* One line's value: "[a, b]" a list, else the text ("" for a key alone: true). */
static int locust_value(const char *v, size_t n, struct tide_conf *out)
{
    struct tide_conf_entry *e = &out->entries[out->n - 1];
    if (n == 0)
        return add_value(out, strdup("true"));
    if (n >= 2 && v[0] == '[' && v[n - 1] == ']') {
        e->kind = TIDE_CONF_ARRAY;
        const char *p = v + 1, *end = v + n - 1;
        while (p < end) {
            const char *comma = memchr(p, ',', (size_t)(end - p));
            const char *stop = comma != NULL ? comma : end;
            char *item = trimmed(p, (size_t)(stop - p));
            if (item != NULL && item[0] == '\0')
                free(item);
            else if (add_value(out, item) != 0)
                return -1;
            p = stop + 1;
        }
        return 0;
    }
    return add_value(out, trimmed(v, n));
}

static int locust_line(struct cur *c, const char *line, size_t n, struct tide_conf *out)
{
    size_t i = 0;
    while (i < n && (line[i] == ' ' || line[i] == '\t'))
        i++;
    if (i == n || line[i] == '#' || line[i] == ';' || line[i] == '[' || line[i] == '\r')
        return 0;
    if (memchr(line, '\0', n) != NULL)
        return fail(c, "NUL byte");
    size_t k = i;
    while (k < n && !strchr(":= \t#;\r", line[k]))
        k++;
    char *key = strndup(line + i, k - i);
    while (k < n && (line[k] == ' ' || line[k] == '\t'))
        k++;
    if (k < n && (line[k] == '=' || line[k] == ':'))
        k++;
    /* a comment starts at a blank followed by '#' or ';' */
    size_t stop = k;
    while (stop < n && !((line[stop] == '#' || line[stop] == ';') &&
                         (stop == k || line[stop - 1] == ' ' || line[stop - 1] == '\t')))
        stop++;
    for (int j = 0; key != NULL && j < out->n; j++) { /* the later one wins, as in Locust */
        if (strcmp(out->entries[j].key, key) == 0)
            out->entries[j].key[0] = '\0';
    }
    if (key == NULL || add_entry(out, "", key, TIDE_CONF_STRING, c->line) != 0)
        return fail(c, "too many keys");
    char *tv = trimmed(line + k, stop - k);
    int rc = tv != NULL ? locust_value(tv, strlen(tv), out) : -1;
    free(tv);
    return rc == 0 ? 0 : fail(c, "out of memory");
}

static int parse_locust(struct cur *c, struct tide_conf *out)
{
    while (c->p < c->end) {
        const char *nl = memchr(c->p, '\n', (size_t)(c->end - c->p));
        const char *stop = nl != NULL ? nl : c->end;
        if (locust_line(c, c->p, (size_t)(stop - c->p), out) != 0)
            return -1;
        c->p = nl != NULL ? nl + 1 : c->end;
        c->line++;
    }
    /* drop the entries a later line replaced */
    int kept = 0;
    for (int i = 0; i < out->n; i++) {
        struct tide_conf_entry *e = &out->entries[i];
        if (e->key[0] != '\0') {
            out->entries[kept++] = *e;
            continue;
        }
        free_entry(e);
    }
    out->n = kept;
    return 0;
}

int tide_conf_parse(const char *text, size_t len, enum tide_conf_syntax syntax,
                    struct tide_conf *out, struct tide_err *err)
{
    memset(out, 0, sizeof *out);
    struct cur c = {text, text + len, 1, err};
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        c.p += 3; /* a UTF-8 byte-order mark */
    if (syntax == TIDE_CONF_TOML && memchr(text, '\0', len) != NULL) {
        const char *nul = memchr(text, '\0', len);
        for (const char *q = text; q < nul; q++)
            c.line += *q == '\n';
        fail(&c, "NUL byte");
        return -1;
    }
    int rc = syntax == TIDE_CONF_TOML ? parse_toml(&c, out) : parse_locust(&c, out);
    if (rc != 0)
        tide_conf_free(out);
    return rc;
}

void tide_conf_free(struct tide_conf *c)
{
    if (c == NULL)
        return;
    for (int i = 0; i < c->n; i++)
        free_entry(&c->entries[i]);
    free(c->entries);
    c->entries = NULL;
    c->n = 0;
}
