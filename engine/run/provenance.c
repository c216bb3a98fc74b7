/* provenance.c: the manifest's who/what/with-what facts, signing and the ledger record. */
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include "audit.h"
#include "fsutil.h"
#include "ledger.h"
#include "loaded.h"
#include "log.h"
#include "operator.h"
#include "privacy.h"
#include "provenance.h"
#include "purge.h"
#include "sign.h"

/* scheme://host[:port] of a URL, without userinfo, path or query. */
static void url_origin(const char *url, char *out, size_t len)
{
    out[0] = '\0';
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL;
    if (u != NULL && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
        if (curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK)
            snprintf(out, len, "%s://%s:%s", scheme, host, port);
        else
            snprintf(out, len, "%s://%s", scheme, host);
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
}

/* The privacy settings as resolved for this run (base/privacy.h describes them). */
static cJSON *privacy_json(const struct tide_config *cfg)
{
    (void)cfg;
    char *text = tide_privacy_describe(); /* on/off, detectors, rules, samples */
    cJSON *p = text != NULL ? cJSON_Parse(text) : NULL;
    free(text);
    if (!cJSON_IsObject(p)) {
        cJSON_Delete(p);
        p = cJSON_CreateObject();
        cJSON_AddBoolToObject(p, "enabled", tide_privacy_enabled());
    }
    return p;
}

void tide_provenance_add(cJSON *facts, const struct tide_config *cfg)
{
    cJSON_AddItemToObject(facts, "operator", tide_operator_json());
    cJSON *build = cJSON_AddObjectToObject(facts, "build");
    cJSON_AddStringToObject(build, "version", TIDE_VERSION);
    cJSON_AddStringToObject(build, "git", TIDE_GIT);
    cJSON_AddStringToObject(build, "curl", curl_version());
    cJSON *plugins = cJSON_AddArrayToObject(facts, "plugin_files");
    for (int i = 0; i < cfg->nplugins; i++) {
        cJSON *p = cJSON_CreateObject();
        char hex[65];
        struct tide_err err = {{0}};
        cJSON_AddStringToObject(p, "path", cfg->plugins[i]);
        if (tide_fs_sha256_file(cfg->plugins[i], hex, &err) == 0)
            cJSON_AddStringToObject(p, "sha256", hex);
        else
            cJSON_AddStringToObject(p, "error", err.msg);
        cJSON_AddItemToArray(plugins, p);
    }
    cJSON_AddItemToObject(facts, "files_read", tide_loaded_json());
    cJSON *targets = cJSON_AddArrayToObject(facts, "targets");
    char origin[1024];
    if (cfg->host != NULL && (url_origin(cfg->host, origin, sizeof origin), origin[0] != '\0'))
        cJSON_AddItemToArray(targets, cJSON_CreateString(origin));
    cJSON_AddItemToObject(facts, "privacy", privacy_json(cfg));
}

int tide_provenance_seal(const struct tide_config *cfg, const char *dir, int exit_code)
{
    char manifest[4200], hex[65], runs[4096], id[1024], result[64];
    struct tide_err err = {{0}};
    int rc = 0;
    snprintf(manifest, sizeof manifest, "%s/manifest.json", dir);
    if (cfg->sign_key != NULL && tide_sign_file(manifest, cfg->sign_key, &err) != 0) {
        tide_log(TIDE_LOG_ERROR, "--sign: %s", err.msg);
        rc = -1;
    }
    if (tide_fs_sha256_file(manifest, hex, &err) != 0)
        return -1;
    tide_ledger_locate(dir, runs, sizeof runs, id, sizeof id);
    snprintf(result, sizeof result, "exit %d", exit_code);
    cJSON *extra = cJSON_CreateObject();
    cJSON_AddStringToObject(extra, "manifest_sha256", hex);
    if (cfg->sign_key != NULL && rc == 0)
        cJSON_AddBoolToObject(extra, "signed", true);
    if (tide_ledger_append_json(runs, "run", id, result, extra, &err) != 0)
        tide_log(TIDE_LOG_WARN, "%s", err.msg);
    if (cfg->retention_us > 0) { /* options.retention: erase the expired runs beside this one */
        int n = tide_purge_expired(runs, cfg->retention_us, id, &err);
        if (n < 0)
            tide_log(TIDE_LOG_ERROR, "retention: %s", err.msg);
        else if (n > 0)
            tide_log(TIDE_LOG_INFO, "retention: %d expired run(s) erased, receipts in %s/.receipts",
                     n, runs);
    }
    return rc;
}
