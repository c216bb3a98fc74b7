/* fuzz_util.h: small helpers shared by the libFuzzer targets in tests/fuzz: the input as a
 * NUL-terminated string (the parsers under test take C strings), split in two at the first NUL
 * byte (two strings from one input), and as a file in a per-process temporary folder (the
 * loaders under test read files). */
#ifndef TIDE_FUZZ_UTIL_H
#define TIDE_FUZZ_UTIL_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* malloc'd copy of the input with a NUL appended; the fuzzer aborts without memory. */
static inline char *fuzz_string(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (s == NULL)
        abort();
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* The second string of an input "first\0second" (empty when there is no NUL). */
static inline const char *fuzz_second(const char *s, size_t size)
{
    size_t n = strlen(s);
    return n < size ? s + n + 1 : s + n;
}

/* A folder private to this process, created once; under $TMPDIR, which run.sh removes. */
static inline const char *fuzz_dir(void)
{
    static char dir[64];
    if (dir[0] == '\0') {
        const char *tmp = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/tide-fuzz-XXXXXX",
                 tmp && *tmp && strlen(tmp) < 40 ? tmp : "/tmp");
        if (mkdtemp(dir) == NULL)
            abort();
    }
    return dir;
}

/* Writes the bytes to fuzz_dir()/name and returns the path (static storage). */
static inline const char *fuzz_file(const char *name, const uint8_t *data, size_t size)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", fuzz_dir(), name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        abort();
    return path;
}

#endif
