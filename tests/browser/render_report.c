/* render_report.c: 'tide report DIR' as a stand-alone program ('render_report report DIR'),
 * so the browser test renders the fixture with the report code alone. */
#include <stdio.h>
#include <string.h>
#include "report.h"

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "report") != 0) {
        fprintf(stderr, "usage: %s report DIR\n", argv[0]);
        return 2;
    }
    return tide_report_main(argc - 1, argv + 1);
}
