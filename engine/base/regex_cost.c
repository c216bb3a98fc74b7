/* regex_cost.c: see regex_cost.h. A single pass over the pattern keeps, per open group, the
 * cost of its alternatives so far and of the piece last seen; a repetition multiplies that
 * piece. Malformed patterns are costed as far as they go (regcomp reports them). */
#include "regex_cost.h"
#include <stdlib.h>

#define MAX_DEPTH 64
#define SATURATED 1e18

struct level {
    double done; /* completed alternatives and pieces of this group */
    double last; /* the piece last seen, which a repetition applies to */
};

static double cap(double x)
{
    return x > SATURATED ? SATURATED : x;
}

/* After a '[': past the bracket expression's closing ']' ("[]a]", "[^]a]", "[[:alpha:]]"). */
static const char *skip_bracket(const char *p)
{
    if (*p == '^')
        p++;
    if (*p == ']')
        p++;
    while (*p != '\0' && *p != ']') {
        if (*p == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '=')) {
            char kind = p[1];
            p += 2;
            while (*p != '\0' && !(*p == kind && p[1] == ']'))
                p++;
            if (*p != '\0')
                p += 2;
        } else {
            p++;
        }
    }
    return *p == ']' ? p + 1 : p;
}

/* After a '{': the copies "{m}", "{m,}" or "{m,n}" makes (at least 1), and p past the '}'. */
static double bound_copies(const char **pp)
{
    char *end;
    const char *p = *pp;
    unsigned long m = strtoul(p, &end, 10), n = m;
    if (*end == ',') {
        p = end + 1;
        n = strtoul(p, &end, 10);
        if (end == p) /* "{m,}": m copies and a star */
            n = m + 1;
    }
    while (*end != '\0' && *end != '}')
        end++;
    *pp = *end == '}' ? end + 1 : end;
    double copies = (double)(n > m ? n : m);
    return copies < 1 ? 1 : copies + 1;
}

double tide_regex_cost(const char *pattern)
{
    struct level lv[MAX_DEPTH] = {{0, 0}};
    int depth = 0;
    const char *p = pattern;
    while (*p != '\0') {
        struct level *l = &lv[depth];
        char ch = *p++;
        if (ch == '(' && depth + 1 < MAX_DEPTH) {
            l->done = cap(l->done + l->last);
            l->last = 0;
            lv[++depth] = (struct level){0, 0};
        } else if (ch == ')' && depth > 0) {
            double group = cap(l->done + l->last + 1);
            depth--;
            lv[depth].last = group;
        } else if (ch == '|') {
            l->done = cap(l->done + l->last + 1);
            l->last = 0;
        } else if (ch == '*' || ch == '?') {
            l->last = cap(l->last + 1);
        } else if (ch == '+') {
            l->last = cap(l->last * 2 + 1);
        } else if (ch == '{') {
            l->last = cap(l->last * bound_copies(&p));
        } else {
            if (ch == '\\' && *p != '\0')
                p++;
            else if (ch == '[')
                p = skip_bracket(p);
            l->done = cap(l->done + l->last);
            l->last = 1;
        }
    }
    double total = 0;
    for (; depth >= 0; depth--)
        total = cap(total + lv[depth].done + lv[depth].last);
    return total;
}
