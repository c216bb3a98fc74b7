/* check.h: a tiny assertion kit for C unit tests; prints file:line: expr and counts failures. */
#ifndef TIDE_CHECK_H
#define TIDE_CHECK_H
#include <stdio.h>
#include <string.h>

static int check_failures;
static int check_count;

#define CHECK(expr)                                                                                \
    do {                                                                                           \
        check_count++;                                                                             \
        if (!(expr)) {                                                                             \
            check_failures++;                                                                      \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #expr);               \
        }                                                                                          \
    } while (0)

#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        check_count++;                                                                             \
        const char *ca_ = (a), *cb_ = (b);                                                         \
        if (ca_ == NULL || cb_ == NULL || strcmp(ca_, cb_) != 0) {                                 \
            check_failures++;                                                                      \
            fprintf(stderr, "%s:%d: %s is \"%s\", expected \"%s\"\n", __FILE__, __LINE__, #a,      \
                    ca_ ? ca_ : "(null)", cb_ ? cb_ : "(null)");                                   \
        }                                                                                          \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                                      \
    do {                                                                                           \
        check_count++;                                                                             \
        double na_ = (double)(a), nb_ = (double)(b);                                               \
        if (!(na_ - nb_ <= (tol) && nb_ - na_ <= (tol))) {                                         \
            check_failures++;                                                                      \
            fprintf(stderr, "%s:%d: %s is %g, expected %g (±%g)\n", __FILE__, __LINE__, #a, na_,   \
                    nb_, (double)(tol));                                                           \
        }                                                                                          \
    } while (0)

/* Ends main(): a summary line and the exit status ctest reads. */
#define CHECK_DONE()                                                                               \
    (printf("%d checks, %d failed\n", check_count, check_failures), check_failures ? 1 : 0)

#endif
