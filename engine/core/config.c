/* config.c: the parts of struct tide_config every layer above core reads: freeing it, the
 * planned end of a scenario, executor names. Built by run/options.c. */
#include <stdlib.h>
#include <string.h>
#include "config.h"

const char *tide_executor_name(enum tide_executor e)
{
    static const char *names[] = {"constant-vus",          "ramping-vus",
                                  "per-vu-iterations",     "shared-iterations",
                                  "constant-arrival-rate", "ramping-arrival-rate"};
    return names[e];
}

int64_t tide_scenario_end_us(const struct tide_scenario *s)
{
    int64_t sum = 0;
    switch (s->executor) {
    case TIDE_EXEC_CONSTANT_VUS:
    case TIDE_EXEC_CONSTANT_ARRIVAL_RATE:
        return s->duration_us;
    case TIDE_EXEC_RAMPING_VUS:
    case TIDE_EXEC_RAMPING_ARRIVAL_RATE:
        for (int i = 0; i < s->nstages; i++)
            sum += s->stages[i].duration_us;
        return sum;
    case TIDE_EXEC_PER_VU_ITERATIONS:
    case TIDE_EXEC_SHARED_ITERATIONS:
        return s->max_duration_us;
    }
    return 0;
}

static void free_kvs(struct tide_kv *kv, int n)
{
    for (int i = 0; i < n; i++) {
        free(kv[i].key);
        free(kv[i].value);
    }
    free(kv);
}

void tide_config_free(struct tide_config *c)
{
    free(c->script_path);
    free(c->script_dir);
    free(c->script_source);
    free(c->script_name);
    free(c->host);
    free(c->tls_ca);
    free(c->tls_cert);
    free(c->tls_key);
    free(c->proxy);
    free(c->out_dir);
    free(c->sign_key);
    free(c->csv_prefix);
    free(c->html_path);
    for (int i = 0; i < c->nscenarios; i++) {
        struct tide_scenario *s = &c->scenarios[i];
        free(s->name);
        free(s->exec);
        free(s->stages);
        free_kvs(s->tags, s->ntags);
    }
    free(c->scenarios);
    for (int i = 0; i < c->nthresholds; i++) {
        free(c->thresholds[i].key);
        free(c->thresholds[i].expr);
        free(c->thresholds[i].plugin);
    }
    free(c->thresholds);
    free_kvs(c->env, c->nenv);
    free_kvs(c->tags, c->ntags);
    for (int i = 0; i < c->nplugins; i++)
        free(c->plugins[i]);
    free(c->plugins);
    for (int i = 0; i < c->nplugin_info; i++) {
        free(c->plugin_info[i].name);
        free(c->plugin_info[i].version);
        free(c->plugin_info[i].path);
    }
    free(c->plugin_info);
    memset(c, 0, sizeof *c);
}
