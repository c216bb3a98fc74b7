/* ipfs.c: dag/import through libcurl. */
#include "ipfs.h"
#include <cJSON.h>
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "log.h"

enum { ANSWER_MAX = 1 << 20 };

static size_t on_body(char *p, size_t size, size_t n, void *user)
{
    struct tide_buf *b = user;
    if (b->len + size * n > ANSWER_MAX)
        return 0; /* too long: abort the transfer */
    tide_buf_add(b, p, size * n);
    return b->failed ? 0 : size * n;
}

/* The root of a dag/import answer: NDJSON, {"Root":{"Cid":{"/":"..."},"PinErrorMsg":""}} per
 * root (kubo and js-ipfs alike), maybe a {"Stats":...} line. */
static int parse_answer(char *text, struct tide_cid *root, struct tide_err *err)
{
    int roots = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        cJSON *j = cJSON_Parse(line);
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(j, "Root");
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(r, "Cid");
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(c, "/");
        const cJSON *pin = cJSON_GetObjectItemCaseSensitive(r, "PinErrorMsg");
        int rc = 0;
        if (cJSON_IsString(pin) && pin->valuestring[0] != '\0')
            rc = tide_err_set(err, "the node did not pin the root: %.200s", pin->valuestring);
        else if (cJSON_IsString(s) && tide_cid_from_text(s->valuestring, root) != 0)
            rc = tide_err_set(err, "the node answered a root tide cannot read: %.80s",
                              s->valuestring);
        else if (cJSON_IsString(s))
            roots++;
        cJSON_Delete(j);
        if (rc != 0)
            return -1;
    }
    if (roots != 1)
        return tide_err_set(err, "the node's answer has %d roots, not one", roots);
    return 0;
}

int tide_ipfs_dag_import(const char *api_url, const char *car_path, struct tide_cid *root,
                         struct tide_err *err)
{
    size_t n = strlen(api_url);
    while (n > 0 && api_url[n - 1] == '/')
        n--;
    char url[2048];
    if ((size_t)snprintf(url, sizeof url, "%.*s/api/v0/dag/import?pin-roots=true", (int)n,
                         api_url) >= sizeof url)
        return tide_err_set(err, "the IPFS URL is too long");
    CURL *c = curl_easy_init();
    curl_mime *mime = c != NULL ? curl_mime_init(c) : NULL;
    curl_mimepart *part = mime != NULL ? curl_mime_addpart(mime) : NULL;
    struct tide_buf answer = {0};
    int rc = 0;
    if (part == NULL) {
        rc = tide_err_set(err, "out of memory");
        goto out;
    }
    curl_mime_name(part, "file");
    curl_mime_type(part, "application/vnd.ipld.car");
    if (curl_mime_filedata(part, car_path) != CURLE_OK) {
        rc = tide_err_set(err, "cannot read %s", car_path);
        goto out;
    }
    curl_mime_filename(part, "run.car");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_MIMEPOST, mime);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "localhost,127.0.0.1,::1");
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)TIDE_IPFS_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "tide/" TIDE_VERSION);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &answer);
    CURLcode res = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    char *shown = tide_redact(url);
    if (res != CURLE_OK) {
        rc = tide_err_set(err, "%s: %s", shown ? shown : "the IPFS node", curl_easy_strerror(res));
    } else if (status != 200) {
        char *body = tide_redact(answer.data != NULL ? answer.data : "");
        rc = tide_err_set(err, "%s: HTTP %ld %.200s", shown ? shown : "the IPFS node", status,
                          body != NULL ? body : "");
        free(body);
    } else if (answer.data == NULL || answer.failed) {
        rc = tide_err_set(err, "the IPFS node's answer is empty");
    } else {
        rc = parse_answer(answer.data, root, err);
    }
    free(shown);
out:
    tide_buf_free(&answer);
    curl_mime_free(mime);
    if (c != NULL)
        curl_easy_cleanup(c);
    return rc;
}
