/* fuzz_s3: what an S3-compatible server answers, as tide export --s3 and tide purge read it
 * (engine/export/s3.c): a ListObjectsV2 page (keys, sizes, ETags, continuation token, XML
 * entities), the <Code> of an error body, and an s3:// URL given on the command line. A page
 * refused as malformed is an expected outcome; a crash or a leak is not. */
#include <stdint.h>
#include <stdlib.h>
#include "fuzz_util.h"
#include "s3.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_string(data, size);
    struct tide_s3_object *objs = NULL;
    size_t n = 0;
    char *next = NULL;
    (void)tide_s3_parse_list_page(text, &objs, &n, &next);
    tide_s3_free_objects(objs, n);
    free(next);
    char summary[256];
    tide_s3_error_summary(text, summary, sizeof summary);
    char *bucket = NULL, *prefix = NULL;
    struct tide_err err;
    if (tide_s3_parse_url(text, &bucket, &prefix, &err) == 0) {
        free(bucket);
        free(prefix);
    }
    free(text);
    return 0;
}
