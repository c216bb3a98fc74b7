/* operator.h: who runs tide, for the manifest, the access ledger and erasure receipts: the
 * user (from the password database, not $USER, which anyone can set), the host name, and the
 * CI job when tide runs in one (GitHub Actions, GitLab CI, Jenkins, or any CI setting CI=true). */
#ifndef TIDE_OPERATOR_H
#define TIDE_OPERATOR_H
#include <cJSON.h>

/* {"user","uid","host", "ci": {"system","job","project","actor","url"}} (ci only in a CI job;
 * its fields only when set). The caller owns it. */
cJSON *tide_operator_json(void);
/* "user@host" into buf. */
void tide_operator_name(char *buf, size_t len);

#endif
