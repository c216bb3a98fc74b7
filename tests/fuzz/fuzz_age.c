/* fuzz_age: the age file format as tide decrypt reads it (engine/export/age.c): the header
 * (version line, stanzas, MAC) and the STREAM payload of an arbitrary file, opened with a fixed
 * identity; the input as an identity file (tide decrypt -i FILE) and as a recipient or identity
 * string (Bech32). A file refused with a message is an expected outcome; a crash, a leak or an
 * over-read is not. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "age.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct tide_age_key id = {{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}};
    struct tide_err err;
    FILE *in = fmemopen((void *)data, size, "rb");
    FILE *out = fopen("/dev/null", "wb");
    if (in != NULL && out != NULL)
        (void)tide_age_decrypt(in, out, &id, 1, &err);
    if (in != NULL)
        fclose(in);
    if (out != NULL)
        fclose(out);
    struct tide_age_key *keys = NULL;
    size_t n = 0;
    if (tide_age_load_identities(fuzz_file("id.txt", data, size), &keys, &n, &err) == 0)
        free(keys);
    char *text = fuzz_string(data, size);
    struct tide_age_key k;
    (void)tide_age_parse_recipient(text, &k, &err);
    (void)tide_age_parse_identity(text, &k, &err);
    free(text);
    return 0;
}
