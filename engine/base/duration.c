/* duration.c: parsing and formatting of durations. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "duration.h"

static int64_t unit_us(const char *u, size_t n)
{
    static const struct {
        const char *name;
        int64_t us;
    } units[] = {{"us", 1},
                 {"ms", 1000},
                 {"s", 1000000},
                 {"m", 60 * 1000000LL},
                 {"h", 3600 * 1000000LL},
                 {"d", 86400 * 1000000LL}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strlen(units[i].name) == n && strncmp(units[i].name, u, n) == 0)
            return units[i].us;
    }
    return 0;
}

int tide_duration_parse(const char *s, int64_t *us, struct tide_err *err)
{
    const char *p = s;
    double total = 0;
    if (s == NULL || *s == '\0')
        return tide_err_set(err, "empty duration (use e.g. 30s, 5m, 1h30m)");
    while (*p != '\0') {
        if (!isdigit((unsigned char)*p) && *p != '.')
            return tide_err_set(err, "duration \"%s\": expected a number at '%s' (e.g. 1h30m)", s,
                                p);
        char *end;
        double v = strtod(p, &end);
        if (end == p || v < 0 || !isfinite(v))
            return tide_err_set(err, "duration \"%s\": bad number at '%s'", s, p);
        p = end;
        const char *u = p;
        while (isalpha((unsigned char)*p))
            p++;
        if (u == p) {
            if (*p != '\0' || total > 0)
                return tide_err_set(err, "duration \"%s\": missing unit (use ms, s, m or h)", s);
            total = v * 1e6; /* bare number: seconds */
            break;
        }
        int64_t m = unit_us(u, (size_t)(p - u));
        if (m == 0)
            return tide_err_set(err,
                                "duration \"%s\": unknown unit '%.*s' (use ms, s, m or h, e.g. "
                                "1h30m)",
                                s, (int)(p - u), u);
        total += v * (double)m;
    }
    if (total > 9e18)
        return tide_err_set(err, "duration \"%s\": too long", s);
    *us = (int64_t)llround(total);
    return 0;
}
