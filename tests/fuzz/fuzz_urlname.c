/* fuzz_urlname: the default `name` of a request, its URL with ids folded (engine/stats/urlname.c),
 * into output buffers of every small size and a large one. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz_util.h"
#include "urlname.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *url = fuzz_string(data, size);
    size_t sizes[] = {1, 2, 5, 16, 4096};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char *out = malloc(sizes[i]);
        tide_url_group(url, out, sizes[i]);
        if (strnlen(out, sizes[i]) == sizes[i])
            abort(); /* always NUL-terminated within the buffer */
        free(out);
    }
    free(url);
    return 0;
}
