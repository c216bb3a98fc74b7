/* fsutil.h: files of a run folder: atomic writes, mkdir -p, sha256, whole-file reads. */
#ifndef TIDE_FSUTIL_H
#define TIDE_FSUTIL_H
#include <stddef.h>
#include "err.h"

/* Writing. write_atomic: writes a temporary file next to 'path', fsyncs it, renames it over
 * 'path' and fsyncs the folder, so 'path' holds either its old content or all of 'data', never
 * a part of it; on failure (full disk, no permission) the temporary file is removed, 'path' is
 * left as it was, and -1 comes back with a one-line message. mkdirs: 'mkdir -p', 0755. */
int tide_fs_write_atomic(const char *path, const void *data, size_t len, struct tide_err *err);
int tide_fs_mkdirs(const char *path, struct tide_err *err);

/* Reading. read_all: the whole file, NUL-terminated (the NUL is not counted in '*len', which
 * may be NULL); the caller frees it. On failure NULL, with a message and errno set (ENOMEM
 * without memory), for callers that word their own message. sha256_file: 64 lowercase hex digits
 * and a NUL. */
char *tide_fs_read_all(const char *path, size_t *len, struct tide_err *err);
/* As read_all, for files a command is given to read (a run folder's summary.json...): only a
 * regular file, at most 'max' bytes. A FIFO, a device or a directory is refused at once
 * (never waited on or read without end), as is a larger file: NULL with a one-line message. */
char *tide_fs_read_file(const char *path, size_t max, size_t *len, struct tide_err *err);
/* The bound on a summary.json or manifest.json read by report, compare, merge and verify: far
 * above what the series cap lets a run write (docs/reliability.md). */
#define TIDE_FS_SUMMARY_MAX ((size_t)256 << 20)
int tide_fs_sha256_file(const char *path, char hex[65], struct tide_err *err);

#endif
