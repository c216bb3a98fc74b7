/* err.c: formatting of struct tide_err. */
#include <stdarg.h>
#include <stdio.h>
#include "err.h"

int tide_err_set(struct tide_err *err, const char *fmt, ...)
{
    if (err == NULL)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return -1;
}
