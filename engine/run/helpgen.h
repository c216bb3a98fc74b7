/* helpgen.h: shell completion scripts (bash, zsh) and the man page, generated from the same
 * text `tide help` prints (main.c's usage and run options), so none of them can list a flag
 * the help does not or miss one it does. `tide completion bash|zsh` and `tide help --man`
 * print them; the build writes build/tide.bash, build/_tide and build/tide.1. */
#ifndef TIDE_HELPGEN_H
#define TIDE_HELPGEN_H
#include <stdio.h>

/* What the generators read: the command names, the usage text and the run options text. */
struct tide_help_text {
    const char *const *commands; /* NULL-terminated */
    const char *usage;           /* "usage: tide <command> ..." */
    const char *run_options;     /* "run options:\n  --host URL   ...\n..." */
};

/* The flags in 'run_options' (tokens starting with '-' after a space, '(' , ',' or '/'),
 * each once, in order, separated by spaces, into out (cap bytes). */
void tide_help_flags(const char *run_options, char *out, size_t cap);
/* `tide completion bash|zsh`: 0, or 2 with a line on stderr for another shell. */
int tide_completion_main(int argc, char **argv, const struct tide_help_text *h);
/* The man page (roff, man macros). */
void tide_help_man(FILE *out, const struct tide_help_text *h);

#endif
