/* jsonl_chain.c: the hash chain of a JSON Lines text (see jsonl_chain.h). */
#include <stdio.h>
#include <string.h>
#include <openssl/sha.h>
#include "jsonl_chain.h"

void tide_chain_hash(const char *line, char hex[65])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)line, strlen(line), md);
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

int tide_chain_walk(char *text, tide_chain_visit_fn visit, void *ctx, struct tide_chain_result *res)
{
    memset(res, 0, sizeof *res);
    memset(res->head, '0', 64);
    res->head[64] = '\0';
    for (char *line = text; *line != '\0' && res->broken_line == 0;) {
        char *nl = strchr(line, '\n');
        if (nl != NULL)
            *nl = '\0';
        res->lines++;
        cJSON *rec = cJSON_Parse(line);
        const cJSON *prev = cJSON_GetObjectItem(rec, "prev");
        bool chain_ok = cJSON_IsString(prev) && strcmp(prev->valuestring, res->head) == 0;
        bool holds = visit != NULL ? visit(ctx, res->lines, rec, chain_ok) : chain_ok;
        if (!holds)
            res->broken_line = res->lines;
        cJSON_Delete(rec);
        tide_chain_hash(line, res->head);
        if (nl == NULL)
            break;
        line = nl + 1;
    }
    return res->broken_line == 0 ? 0 : -1;
}
