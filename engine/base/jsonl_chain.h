/* jsonl_chain.h: reading a hash-chained JSON Lines file (a run's events.jsonl, the runs
 * folder's .ledger.jsonl): each line is a JSON object whose "prev" is the sha256 (64 lowercase
 * hex digits) of the line before it, 64 zeros for the first, so an edited, removed or
 * reordered line breaks the chain at the line after it. One reader for both files, so they are
 * checked the same way; each caller adds its own rules (the ledger's "seq") in the visitor. */
#ifndef TIDE_JSONL_CHAIN_H
#define TIDE_JSONL_CHAIN_H
#include <stdbool.h>
#include <cJSON.h>

/* Called for each line, in order: 'record' is the parsed line (NULL when it is not JSON) and
 * 'chain_ok' whether its "prev" is right. Returns whether the line holds (usually chain_ok and
 * the caller's own checks); false stops the walk there. */
typedef bool (*tide_chain_visit_fn)(void *ctx, long lineno, const cJSON *record, bool chain_ok);

struct tide_chain_result {
    long lines;       /* lines read, the broken one included */
    long broken_line; /* the first line that did not hold (1-based), 0: none */
    char head[65];    /* sha256 of the last line read (64 zeros: none) */
};

/* Walks 'text' (NUL-terminated; its newlines are overwritten). 'visit' may be NULL (then a line
 * holds when its "prev" is right). Returns 0 when every line holds, -1 when one did not. */
int tide_chain_walk(char *text, tide_chain_visit_fn visit, void *ctx,
                    struct tide_chain_result *res);

/* sha256 of a line as the chain links it, as 64 lowercase hex digits. */
void tide_chain_hash(const char *line, char hex[65]);

#endif
