/* operator.c: the operator's identity (see operator.h). */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "operator.h"

static void add_env(cJSON *o, const char *field, const char *var)
{
    const char *v = getenv(var);
    if (v != NULL && *v != '\0' && cJSON_GetObjectItem(o, field) == NULL)
        cJSON_AddStringToObject(o, field, v);
}

/* The CI job's identity from the variables each CI system sets; NULL outside CI. */
static cJSON *ci_json(void)
{
    cJSON *ci = cJSON_CreateObject();
    if (getenv("GITHUB_ACTIONS") != NULL) {
        cJSON_AddStringToObject(ci, "system", "github-actions");
        add_env(ci, "job", "GITHUB_RUN_ID");
        add_env(ci, "project", "GITHUB_REPOSITORY");
        add_env(ci, "actor", "GITHUB_ACTOR");
        add_env(ci, "workflow", "GITHUB_WORKFLOW");
        add_env(ci, "commit", "GITHUB_SHA");
    } else if (getenv("GITLAB_CI") != NULL) {
        cJSON_AddStringToObject(ci, "system", "gitlab-ci");
        add_env(ci, "job", "CI_JOB_ID");
        add_env(ci, "project", "CI_PROJECT_PATH");
        add_env(ci, "actor", "GITLAB_USER_LOGIN");
        add_env(ci, "url", "CI_JOB_URL");
        add_env(ci, "commit", "CI_COMMIT_SHA");
    } else if (getenv("JENKINS_URL") != NULL || getenv("BUILD_URL") != NULL) {
        cJSON_AddStringToObject(ci, "system", "jenkins");
        add_env(ci, "job", "BUILD_TAG");
        add_env(ci, "project", "JOB_NAME");
        add_env(ci, "url", "BUILD_URL");
        add_env(ci, "commit", "GIT_COMMIT");
    } else if (getenv("CI") != NULL && strcmp(getenv("CI"), "false") != 0) {
        cJSON_AddStringToObject(ci, "system", "ci");
    } else {
        cJSON_Delete(ci);
        return NULL;
    }
    add_env(ci, "url", "BUILD_URL");
    return ci;
}

cJSON *tide_operator_json(void)
{
    cJSON *o = cJSON_CreateObject();
    struct passwd *pw = getpwuid(getuid());
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    cJSON_AddStringToObject(o, "user", pw != NULL ? pw->pw_name : "");
    cJSON_AddNumberToObject(o, "uid", (double)getuid());
    cJSON_AddStringToObject(o, "host", host);
    cJSON *ci = ci_json();
    if (ci != NULL)
        cJSON_AddItemToObject(o, "ci", ci);
    return o;
}

void tide_operator_name(char *buf, size_t len)
{
    struct passwd *pw = getpwuid(getuid());
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    snprintf(buf, len, "%s@%s", pw != NULL ? pw->pw_name : "?", host);
}
