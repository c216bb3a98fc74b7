/* loaded.h: the files a run read besides its scenario (modules found by require, data files read
 * by tide.data), each once with its sha256, so the run layer can list them in the manifest. The
 * Lua layer adds; the run layer reads at the end. Thread-safe: every worker's VUs may add. */
#ifndef TIDE_LOADED_H
#define TIDE_LOADED_H
#include <stddef.h>

struct cJSON;

/* Records 'path' (kind "module" or "data") with the sha256 of its bytes. The same path with the
 * same content is recorded once; the same path read with another content is recorded again (the
 * file changed during the run, and the manifest should say so). */
void tide_loaded_add(const char *kind, const char *path, const void *data, size_t len);
/* A JSON array of {"kind","path","sha256"}, in the order first read; the caller owns it. */
struct cJSON *tide_loaded_json(void);
void tide_loaded_clear(void);

#endif
