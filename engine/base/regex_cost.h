/* regex_cost.h: how big a POSIX extended regex grows once compiled, estimated before regcomp.
 * glibc's regcomp copies a repeated piece once per repetition ("x+" is "xx*", "x{3,5}" five
 * copies), so stacked or nested repetitions multiply: "a++++++++++++++++++++++++++++++" or
 * "((a{99}){99}){99}" take gigabytes and minutes to compile. Patterns come from scripts
 * (threshold tag matchers, privacy rules): refuse them above TIDE_REGEX_MAX_COST instead. */
#ifndef TIDE_REGEX_COST_H
#define TIDE_REGEX_COST_H

/* Hundreds of times an ordinary pattern ("a{1000}" passes). glibc's time and memory also grow
 * with the square of the optional pieces ("(a?){1300}": about 30 MB, 0.1 s): at this bound the
 * worst pattern found takes some 50 MB and half a second, once, at start. */
#define TIDE_REGEX_MAX_COST 4000.0

/* The number of pieces the compiled pattern holds, roughly (an upper bound of the copies made
 * for repetitions); saturates at a large value instead of overflowing. */
double tide_regex_cost(const char *pattern);

#endif
