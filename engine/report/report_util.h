/* report_util.h: what the report renderers share (the report/ folder only): saving a rendered
 * buffer (base/buf.h), lenient reads of summary fields, number formatting. */
#ifndef TIDE_REPORT_UTIL_H
#define TIDE_REPORT_UTIL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cJSON.h>
#include "buf.h"
#include "err.h"
#include "utf8.h" /* tide_utf8_char: the writers pass only well-formed UTF-8 on */

/* Writes a rendered file to 'path' atomically, then frees the buffer (also on failure); a
 * buffer whose allocation failed is "out of memory". */
int tide_report_buf_save(struct tide_buf *b, const char *path, struct tide_err *err);

/* Summary fields: the default when the key is absent or of another JSON type. */
double tide_rj_num(const cJSON *obj, const char *key, double dflt);
const char *tide_rj_str(const cJSON *obj, const char *key, const char *dflt);
const cJSON *tide_rj_array(const cJSON *obj, const char *key);  /* NULL when not an array */
const cJSON *tide_rj_object(const cJSON *obj, const char *key); /* NULL when not an object */

/* -1 with a message unless 'summary' is an object of schema "tide.summary/1". */
int tide_report_check_schema(const cJSON *summary, struct tide_err *err);
/* Parses a summary.json text; NULL with "<name>: line N: ..." on bad JSON or schema. */
cJSON *tide_report_parse(const char *text, size_t len, const char *name, struct tide_err *err);

/* A run argument: DIR gives "DIR/summary.json" and '*dir' DIR; a path ending in ".json" is
 * taken as is and '*dir' is its folder. Both are the caller's to free; NULL: out of memory. */
char *tide_report_summary_path(const char *arg, char **dir);

/* "2026-11-25T15:30:00.123Z" (or with +hh:mm) to Unix seconds (fraction kept); false when
 * 's' is no such time. */
bool tide_report_parse_time(const char *s, double *secs);
/* The shortest text that reads back as 'v' ("%g" style, at most 17 digits). */
void tide_report_fmt_num(char *out, size_t n, double v);

#endif
