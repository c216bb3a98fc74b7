/* k8s.c: tide k8s manifest (see k8s.h). Every value that comes from the command line is
 * written as a JSON string (valid YAML) or checked against a strict pattern first, so no
 * argument can change the documents' structure. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cJSON.h>
#include "buf.h"
#include "duration.h"
#include "fsutil.h"
#include "k8s.h"
#include "log.h"
#include "run.h"

#define MAX_SCRIPT (900 * 1024) /* a ConfigMap holds at most 1 MiB */

static const char k8s_usage[] =
    "usage: tide k8s manifest SCENARIO --segments N --image IMAGE [--host URL] [--name NAME]\n"
    "                         [--start-delay D]\n"
    "\n"
    "Prints the Kubernetes manifests of a test split over N pods (docs/distributed.md):\n"
    "ConfigMap (the scenario), PVC, setup Job, Indexed Job of the segments, teardown + merge\n"
    "Job. Apply them in that order (examples/kubernetes/README.md). --name prefixes every\n"
    "object (default tide); --start-delay is how long after setup the segments start (60s).\n";

struct k8s_opts {
    const char *script, *image, *host, *name;
    int segments;
    int64_t delay_us;
};

static int usage_error(const char *msg, const char *arg)
{
    fprintf(stderr, "tide: k8s: ");
    fprintf(stderr, "%s%s\n", msg, arg);
    return TIDE_EXIT_USAGE;
}

static bool dns_label(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 40 || s[0] == '-' || s[n - 1] == '-')
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) && s[i] != '-')
            return false;
    }
    return true;
}

static int parse(int argc, char **argv, struct k8s_opts *o)
{
    o->name = "tide";
    o->host = "http://my-service.default.svc:8080";
    o->delay_us = 60000000;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool valued = strcmp(a, "--segments") == 0 || strcmp(a, "--image") == 0 ||
                      strcmp(a, "--host") == 0 || strcmp(a, "--name") == 0 ||
                      strcmp(a, "--start-delay") == 0;
        if (valued && v == NULL)
            return usage_error("needs a value: ", a);
        if (strcmp(a, "--segments") == 0) {
            char *end;
            long n = strtol(v, &end, 10);
            if (*end != '\0' || n < 1 || n > 1000)
                return usage_error("--segments: expected 1 to 1000, got ", v);
            o->segments = (int)n;
        } else if (strcmp(a, "--image") == 0) {
            o->image = v;
        } else if (strcmp(a, "--host") == 0) {
            o->host = v;
        } else if (strcmp(a, "--name") == 0) {
            if (!dns_label(v))
                return usage_error("--name: lowercase letters, digits and '-', at most 40: ", v);
            o->name = v;
        } else if (strcmp(a, "--start-delay") == 0) {
            struct tide_err err;
            if (tide_duration_parse(v, &o->delay_us, &err) != 0 || o->delay_us < 1000000)
                return usage_error("--start-delay: a duration of at least 1s, got ", v);
        } else if (a[0] == '-') {
            return usage_error("unknown option ", a);
        } else if (o->script == NULL) {
            o->script = a;
            continue;
        } else {
            return usage_error("one scenario only; unexpected ", a);
        }
        i++;
    }
    if (o->script == NULL || o->segments == 0 || o->image == NULL)
        return usage_error("usage: tide k8s manifest SCENARIO --segments N --image IMAGE", "");
    if (o->image[0] == '\0' || strpbrk(o->image, " \t\r\n") != NULL)
        return usage_error("--image: an image reference without spaces, got ", o->image);
    return 0;
}

/* A string as a JSON (hence YAML) double-quoted scalar, appended to b. */
static void quoted(struct tide_buf *b, const char *s)
{
    cJSON *j = cJSON_CreateString(s);
    char *text = j != NULL ? cJSON_PrintUnformatted(j) : NULL;
    tide_buf_puts(b, text != NULL ? text : "\"\"");
    free(text);
    cJSON_Delete(j);
}

/* The part of a Job's pod spec after its command: env, volumes. */
static void pod_tail(struct tide_buf *b, const struct k8s_opts *o)
{
    tide_buf_puts(b, "          env:\n            - name: TARGET_URL\n              value: ");
    quoted(b, o->host);
    tide_buf_printf(b,
                    "\n          volumeMounts:\n"
                    "            - { name: scenario, mountPath: /scenario, readOnly: true }\n"
                    "            - { name: results, mountPath: /results }\n"
                    "      volumes:\n"
                    "        - name: scenario\n"
                    "          configMap: { name: %s-scenario }\n"
                    "        - name: results\n"
                    "          persistentVolumeClaim: { claimName: %s-results }\n",
                    o->name, o->name);
}

static void job_head(struct tide_buf *b, const struct k8s_opts *o, const char *part)
{
    tide_buf_printf(b,
                    "---\napiVersion: batch/v1\nkind: Job\nmetadata:\n  name: %s-%s\n"
                    "  labels:\n    app.kubernetes.io/name: tide\n"
                    "    app.kubernetes.io/component: %s\n",
                    o->name, part, part);
}

static void container_head(struct tide_buf *b, const struct k8s_opts *o)
{
    tide_buf_puts(b, "      containers:\n        - name: tide\n          image: ");
    quoted(b, o->image);
    tide_buf_puts(
        b, "\n          command: [\"/bin/sh\", \"-c\"]\n          args:\n            - >-\n");
}

static void manifests(struct tide_buf *b, const struct k8s_opts *o, const char *lua)
{
    tide_buf_printf(b,
                    "# tide k8s manifest: a test split over %d pods (docs/distributed.md).\n"
                    "# Apply in order, waiting for each Job: %s-setup, %s-segments, %s-merge.\n",
                    o->segments, o->name, o->name, o->name);
    tide_buf_printf(b,
                    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s-scenario\n"
                    "  labels:\n    app.kubernetes.io/name: tide\ndata:\n  scenario.lua: |2\n",
                    o->name);
    for (const char *p = lua; *p != '\0';) {
        const char *nl = strchr(p, '\n');
        size_t n = nl != NULL ? (size_t)(nl - p) : strlen(p);
        if (n > 0 && p[n - 1] == '\r')
            n--;
        tide_buf_puts(b, "    ");
        tide_buf_add(b, p, n);
        tide_buf_puts(b, "\n");
        p = nl != NULL ? nl + 1 : p + strlen(p);
    }
    tide_buf_printf(b,
                    "---\napiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n"
                    "  name: %s-results\n  labels:\n    app.kubernetes.io/name: tide\n"
                    "spec:\n  accessModes: [\"ReadWriteMany\"]\n"
                    "  resources:\n    requests:\n      storage: 1Gi\n",
                    o->name);
    job_head(b, o, "setup");
    tide_buf_puts(b, "spec:\n  backoffLimit: 0\n  template:\n    spec:\n"
                     "      restartPolicy: Never\n");
    container_head(b, o);
    tide_buf_printf(b,
                    "              tide run /scenario/scenario.lua --host \"$TARGET_URL\" --phase "
                    "setup\n              --setup-data /results/setup-data.json &&\n"
                    "              date -u -d '+%lld seconds' +%%s > /results/start-at\n",
                    (long long)(o->delay_us / 1000000));
    pod_tail(b, o);
    job_head(b, o, "segments");
    tide_buf_printf(b,
                    "spec:\n  completionMode: Indexed\n  completions: %d\n  parallelism: %d\n"
                    "  backoffLimit: 0\n  template:\n    spec:\n      restartPolicy: Never\n",
                    o->segments, o->segments);
    container_head(b, o);
    tide_buf_printf(b,
                    "              exec tide run /scenario/scenario.lua --host \"$TARGET_URL\" "
                    "--segments %d\n              --start-at \"$(cat /results/start-at)\" "
                    "--setup-data /results/setup-data.json\n"
                    "              --out \"/results/segment-$JOB_COMPLETION_INDEX\"\n",
                    o->segments);
    pod_tail(b, o);
    job_head(b, o, "merge");
    tide_buf_puts(b, "spec:\n  backoffLimit: 0\n  template:\n    spec:\n"
                     "      restartPolicy: Never\n");
    container_head(b, o);
    tide_buf_puts(b, "              tide run /scenario/scenario.lua --host \"$TARGET_URL\" --phase "
                     "teardown\n              --setup-data /results/setup-data.json;\n"
                     "              exec tide merge");
    for (int i = 0; i < o->segments; i++)
        tide_buf_printf(b, " /results/segment-%d", i);
    tide_buf_puts(b, "\n              --out /results/merged\n");
    pod_tail(b, o);
}

int tide_k8s_main(int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(k8s_usage, stdout);
        return TIDE_EXIT_OK;
    }
    if (argc < 2 || strcmp(argv[1], "manifest") != 0)
        return usage_error("usage: tide k8s manifest SCENARIO --segments N --image IMAGE", "");
    struct k8s_opts o = {0};
    int rc = parse(argc, argv, &o);
    if (rc != 0)
        return rc;
    size_t len = 0;
    char *lua = tide_fs_read_all(o.script, &len, NULL);
    if (lua == NULL) {
        fprintf(stderr, "tide: k8s: cannot read %s: %s\n", o.script, strerror(errno));
        return TIDE_EXIT_USAGE;
    }
    if (len > MAX_SCRIPT || memchr(lua, '\0', len) != NULL) {
        free(lua);
        fprintf(stderr, "tide: k8s: %s: a ConfigMap holds a text file of at most 900 KB\n",
                o.script);
        return TIDE_EXIT_USAGE;
    }
    struct tide_buf b = {0};
    manifests(&b, &o, lua);
    free(lua);
    char *clean = b.data != NULL ? tide_redact(b.data) : NULL;
    rc = TIDE_EXIT_OK;
    if (clean == NULL || fputs(clean, stdout) == EOF || fflush(stdout) != 0)
        rc = TIDE_EXIT_INTERNAL;
    free(clean);
    tide_buf_free(&b);
    return rc;
}
