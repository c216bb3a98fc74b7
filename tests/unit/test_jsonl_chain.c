/* test_jsonl_chain.c: the hash-chain reader of events.jsonl and the ledger: an intact chain
 * walks to its head; an edited, removed or reordered line breaks it at the right line; a
 * visitor's own rule breaks it too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../check.h"
#include "jsonl_chain.h"

/* A chain of n lines {"n":i,"prev":...}, each linked to the one before. */
static char *chain(int n, char lines[][200])
{
    static char text[4096];
    char prev[65];
    memset(prev, '0', 64);
    prev[64] = '\0';
    text[0] = '\0';
    for (int i = 0; i < n; i++) {
        snprintf(lines[i], 200, "{\"n\":%d,\"prev\":\"%s\"}", i + 1, prev);
        tide_chain_hash(lines[i], prev);
        strcat(text, lines[i]);
        strcat(text, "\n");
    }
    return text;
}

static bool odd_only(void *ctx, long lineno, const cJSON *rec, bool chain_ok)
{
    (void)rec;
    ++*(int *)ctx;
    return chain_ok && lineno != 2; /* the caller's own rule: line 2 is refused */
}

int main(void)
{
    char lines[4][200], buf[4096];
    struct tide_chain_result res;
    snprintf(buf, sizeof buf, "%s", chain(3, lines));
    CHECK(tide_chain_walk(buf, NULL, NULL, &res) == 0);
    CHECK(res.lines == 3 && res.broken_line == 0);
    char want[65];
    tide_chain_hash(lines[2], want);
    CHECK_STR(res.head, want);

    snprintf(buf, sizeof buf, "%s", chain(3, lines)); /* line 2 edited: line 3 breaks */
    char *at = strstr(buf, "\"n\":2");
    at[4] = '9';
    CHECK(tide_chain_walk(buf, NULL, NULL, &res) == -1);
    CHECK(res.broken_line == 3 && res.lines == 3);

    chain(3, lines); /* line 2 removed: line 3 breaks */
    snprintf(buf, sizeof buf, "%s\n%s\n", lines[0], lines[2]);
    CHECK(tide_chain_walk(buf, NULL, NULL, &res) == -1);
    CHECK(res.broken_line == 2);

    snprintf(buf, sizeof buf, "%s\n%s\n%s\n", lines[1], lines[0], lines[2]); /* reordered */
    CHECK(tide_chain_walk(buf, NULL, NULL, &res) == -1);
    CHECK(res.broken_line == 1);

    snprintf(buf, sizeof buf, "not json\n");
    CHECK(tide_chain_walk(buf, NULL, NULL, &res) == -1 && res.broken_line == 1);

    snprintf(buf, sizeof buf, "%s", chain(3, lines)); /* the visitor's rule, and it stops */
    int visited = 0;
    CHECK(tide_chain_walk(buf, odd_only, &visited, &res) == -1);
    CHECK(res.broken_line == 2 && visited == 2 && res.lines == 2);

    buf[0] = '\0'; /* empty: intact, no head */
    CHECK(tide_chain_walk(buf, NULL, NULL, &res) == 0 && res.lines == 0);
    CHECK(strspn(res.head, "0") == 64);

    snprintf(buf, sizeof buf, "%s", lines[0]); /* no final newline */
    CHECK(tide_chain_walk(buf, NULL, NULL, &res) == 0 && res.lines == 1);
    return CHECK_DONE();
}
