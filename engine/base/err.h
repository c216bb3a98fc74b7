/* err.h: the error a fallible function hands back to its caller (one line, no secrets). */
#ifndef TIDE_ERR_H
#define TIDE_ERR_H

struct tide_err {
    char msg[512];
};

/* Formats into 'err' (when not NULL) and returns -1, so callers can 'return tide_err_set(...)'. */
int tide_err_set(struct tide_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
