/* inspect.c: `tide inspect SCRIPT [run options] [--json] [--strict]` (plan.h). The script
 * loads as for tide run -- its top level and plugins run in the probe state -- and nothing
 * else: no setup(), no VU, no request, no run folder. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "options.h"
#include "plan.h"
#include "run.h"
#include "runconf.h"

/* The rule the verdict will use (as tide_run_main decides it). */
static enum tide_verdict_rule rule_of(const struct tide_cli *cli, const struct tide_config *cfg)
{
    if (cli->no_default_thresholds)
        return TIDE_RULE_NONE;
    if (cli->locust_flags && cfg->nthresholds == 0)
        return TIDE_RULE_LOCUST;
    return TIDE_RULE_DEFAULTS;
}

int tide_inspect_main(int argc, char **argv)
{
    bool json = false, strict = false;
    char **args = calloc((size_t)argc + 1, sizeof *args);
    int n = 0;
    if (args == NULL)
        return TIDE_EXIT_INTERNAL;
    for (int i = 0; i < argc; i++) { /* inspect's own flags, then tide run's */
        if (strcmp(argv[i], "--json") == 0)
            json = true;
        else if (strcmp(argv[i], "--strict") == 0)
            strict = true;
        else
            args[n++] = argv[i];
    }
    struct tide_cli cli;
    struct tide_config cfg;
    struct tide_err err = {{0}};
    lua_State *probe = NULL;
    int code = TIDE_EXIT_OK;
    memset(&cfg, 0, sizeof cfg);
    if (tide_runconf_parse(n, args, &cli, &err) != 0 ||
        tide_options_build_keep(&cli, &cfg, &probe, &err) != 0) {
        tide_log(TIDE_LOG_ERROR, "%s", err.msg);
        code = TIDE_EXIT_USAGE;
    } else {
        cJSON *plan = tide_plan_build(&cli, &cfg, probe, rule_of(&cli, &cfg));
        if (json) {
            char *text = cJSON_Print(plan);
            if (text != NULL)
                printf("%s\n", text);
            free(text);
        } else {
            tide_plan_print(stdout, plan);
        }
        fflush(stdout);
        if (strict && tide_plan_warn(plan, NULL) > 0)
            code = TIDE_EXIT_THRESHOLDS;
        cJSON_Delete(plan);
    }
    if (probe != NULL)
        lua_close(probe);
    tide_config_free(&cfg);
    tide_cli_free(&cli);
    free(args);
    tide_secrets_clear();
    return code;
}
