/* init_cmd.c: `tide init` (init_cmd.h). */
#include "init_cmd.h"
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "buf.h"
#include "fsutil.h"
#include "init_locust.h"
#include "init_pyexpr.h"
#include "log.h"
#include "run.h"
#include "suggest.h"

const char tide_init_usage[] =
    "usage: tide init [FILE.lua] [--from-locust LOCUSTFILE] [--host URL] [--force]\n"
    "\n"
    "Writes a starter scenario (default scenario.lua): options with thresholds, a setup(), a\n"
    "run() with checks and a group; it runs as is: tide run scenario.lua --target.\n"
    "  --from-locust F   translate locustfile F instead (best effort; lines it cannot\n"
    "                    translate become -- TODO(locust): comments; default FILE: F's name\n"
    "                    with .lua). No Python runs. See docs/from-locust.md.\n"
    "  --host URL        the scenario's options.host\n"
    "  --force           replace FILE if it exists (otherwise: exit 2)\n";

static const char starter[] =
    "-- A starter scenario written by `tide init`. Run it against tide's built-in API:\n"
    "--   tide run %s --target                          one iteration: a smoke test\n"
    "--   tide run %s --target --vus 5 --duration 30s   a short load\n"
    "-- docs/scenario-api.md lists everything a scenario can call; docs/cli.md the flags.\n"
    "local http = require \"tide.http\"\n"
    "local tide = require \"tide\"\n"
    "\n"
    "options = {\n"
    "%s"
    "  -- pass/fail criteria: a threshold that fails makes the exit code 99\n"
    "  thresholds = {\n"
    "    http_req_failed = { \"rate<0.01\" },   -- fewer than 1 %% of requests fail\n"
    "    http_req_duration = { \"p(95)<500\" }, -- 95 %% of answers within 500 ms\n"
    "    checks = { \"rate>0.99\" },            -- the checks below hold\n"
    "  },\n"
    "}\n"
    "\n"
    "-- setup() runs once, before any VU starts; what it returns reaches every VU.\n"
    "function setup()\n"
    "  local r = http.post(\"/api/auth/login\", { json = { username = \"demo\", password = "
    "\"demo\" } })\n"
    "  assert(r.status == 200, \"login failed: HTTP \" .. r.status)\n"
    "  return { token = r:json().token }\n"
    "end\n"
    "\n"
    "-- run() is one iteration: each VU calls it again and again.\n"
    "function run(data)\n"
    "  local headers = { Authorization = \"Bearer \" .. data.token, [\"X-Tenant-ID\"] = \"acme\" "
    "}\n"
    "  -- a group tags every request inside it: its timings are reported apart\n"
    "  tide.group(\"browse\", function()\n"
    "    local r = http.get(\"/api/projects?page=1&per_page=20\", { headers = headers, name = "
    "\"/api/projects\" })\n"
    "    tide.check(r, {\n"
    "      [\"status is 200\"] = function(x) return x.status == 200 end,\n"
    "      [\"has items\"] = function(x) return x:json().items ~= nil end,\n"
    "    })\n"
    "  end)\n"
    "  local h = http.get(\"/health\")\n"
    "  tide.check(h, { [\"health is ok\"] = function(x) return x.status == 200 end })\n"
    "  tide.think(0.5, 1.5) -- a user's pause between iterations\n"
    "end\n";

static int usage_error(const char *msg, const char *arg)
{
    fprintf(stderr, "tide: init: %s%s (see 'tide init --help')\n", msg, arg ? arg : "");
    return TIDE_EXIT_USAGE;
}

/* The locustfile, whole, bounded; NULL with a line on stderr. */
static char *read_locustfile(const char *path, size_t *len)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "tide: init: cannot read %s: %s\n", path, strerror(errno));
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        fprintf(stderr, "tide: init: cannot read %s: not a regular file\n", path);
        return NULL;
    }
    if (st.st_size > TIDE_LOCUST_MAX_BYTES) {
        fprintf(stderr, "tide: init: %s is larger than %d bytes: not a locustfile\n", path,
                TIDE_LOCUST_MAX_BYTES);
        return NULL;
    }
    FILE *f = fopen(path, "rb");
    char *buf = f ? malloc(TIDE_LOCUST_MAX_BYTES + 1) : NULL;
    if (buf == NULL) {
        fprintf(stderr, "tide: init: cannot read %s: %s\n", path, strerror(errno));
        if (f)
            fclose(f);
        return NULL;
    }
    *len = fread(buf, 1, TIDE_LOCUST_MAX_BYTES + 1, f);
    bool bad = ferror(f) != 0 || *len > TIDE_LOCUST_MAX_BYTES;
    fclose(f);
    if (bad) {
        fprintf(stderr, "tide: init: cannot read %s whole\n", path);
        free(buf);
        return NULL;
    }
    buf[*len] = '\0';
    return buf;
}

/* "dir/locustfile.py" -> "locustfile.lua" */
static void default_name(const char *locustfile, char *out, size_t cap)
{
    const char *base = strrchr(locustfile, '/');
    base = base ? base + 1 : locustfile;
    size_t n = strlen(base);
    if (n > 3 && strcmp(base + n - 3, ".py") == 0)
        n -= 3;
    snprintf(out, cap, "%.*s.lua", (int)(n < 200 ? n : 200), base);
}

int tide_init_main(int argc, char **argv)
{
    const char *file = NULL, *locust = NULL, *host = NULL;
    bool force = false;
    static const char *const flags[] = {"--from-locust", "--host", "--force", "--help", NULL};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--force") == 0) {
            force = true;
        } else if (strcmp(a, "--from-locust") == 0 || strcmp(a, "--host") == 0 ||
                   strcmp(a, "-H") == 0) {
            if (i + 1 >= argc)
                return usage_error(a, " needs a value");
            *(strcmp(a, "--from-locust") == 0 ? &locust : &host) = argv[++i];
        } else if (strncmp(a, "--from-locust=", 14) == 0) {
            locust = a + 14;
        } else if (strncmp(a, "--host=", 7) == 0) {
            host = a + 7;
        } else if (a[0] == '-') {
            const char *near = tide_suggest(a, flags);
            fprintf(stderr, "tide: init: unknown option %s%s%s%s (see 'tide init --help')\n", a,
                    near ? " (did you mean " : "", near ? near : "", near ? "?)" : "");
            return TIDE_EXIT_USAGE;
        } else if (file == NULL) {
            file = a;
        } else {
            return usage_error("more than one file given: ", a);
        }
    }
    if (host != NULL && strncmp(host, "http://", 7) != 0 && strncmp(host, "https://", 8) != 0)
        return usage_error("--host must start with http:// or https://: ", host);
    char name[256];
    if (file == NULL) {
        default_name(locust ? locust : "scenario.py", name, sizeof name);
        file = name;
    }
    size_t flen = strlen(file);
    if (flen < 5 || strcmp(file + flen - 4, ".lua") != 0)
        return usage_error("the scenario's name must end in .lua: ", file);
    struct stat st;
    if (!force && lstat(file, &st) == 0) {
        fprintf(stderr, "tide: init: %s exists (use --force to replace it)\n", file);
        return TIDE_EXIT_USAGE;
    }
    struct tide_buf out = {0};
    struct tide_locust_result res = {0};
    const char *shown = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
    if (locust != NULL) {
        size_t len = 0;
        char *src = read_locustfile(locust, &len);
        if (src == NULL)
            return TIDE_EXIT_USAGE;
        struct tide_err err = {{0}};
        int rc = tide_locust_translate(src, len, shown, host, &res, &err);
        free(src);
        if (rc != 0) {
            fprintf(stderr, "tide: init: %s: %s\n", locust, err.msg);
            return TIDE_EXIT_USAGE;
        }
        tide_buf_puts(&out, res.lua);
    } else {
        struct tide_buf h = {0};
        if (host != NULL) {
            tide_buf_puts(&h, "  host = ");
            tide_py_lua_string(&h, host, strlen(host));
            tide_buf_puts(&h, ", -- --host wins over it\n");
        } else
            tide_buf_puts(&h, "  -- host = \"https://staging.example.com\", -- or --host URL; "
                              "--target: the built-in API\n");
        tide_buf_printf(&out, starter, shown, shown, h.data);
        tide_buf_free(&h);
    }
    struct tide_err err = {{0}};
    int rc = TIDE_EXIT_OK;
    if (out.failed || tide_fs_write_atomic(file, out.data, out.len, &err) != 0) {
        fprintf(stderr, "tide: init: %s\n", out.failed ? "out of memory" : err.msg);
        rc = TIDE_EXIT_INTERNAL;
    } else if (locust != NULL) {
        char *src_shown = tide_redact(locust);
        printf("wrote %s from %s: %d user class%s, %d task%s, %d line%s marked TODO(locust) to "
               "finish by hand\n",
               file, src_shown ? src_shown : "the locustfile", res.users,
               res.users == 1 ? "" : "es", res.tasks, res.tasks == 1 ? "" : "s", res.todos,
               res.todos == 1 ? "" : "s");
        printf("try it: tide run %s --target (or --host URL)\n", file);
        free(src_shown);
    } else {
        printf("wrote %s; try it: tide run %s --target\n", file, file);
    }
    tide_locust_result_free(&res);
    tide_buf_free(&out);
    return rc;
}
