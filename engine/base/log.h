/* log.h: messages to the terminal, and the redaction of secrets from everything tide writes.
 * Values registered as secrets (read through tide.env, marked by tide.secret, the userinfo of
 * --host) are replaced by "***" in every message, event, report and summary; the privacy
 * filter (privacy.h) then hides personal data and credentials. Thread-safe. */
#ifndef TIDE_LOG_H
#define TIDE_LOG_H
#include <stdbool.h>
#include <stddef.h>

enum tide_log_level { TIDE_LOG_DEBUG, TIDE_LOG_INFO, TIDE_LOG_WARN, TIDE_LOG_ERROR };

/* One line to stderr: "tide: <msg>" (redacted). */
void tide_log(enum tide_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void tide_log_set_quiet(bool quiet); /* hides INFO and DEBUG */
/* Hides messages below 'min' (Locust's --loglevel); DEBUG, the default, shows all. */
void tide_log_set_level(enum tide_log_level min);
bool tide_log_enabled(enum tide_log_level level);

/* Secrets. Values shorter than 3 bytes are not registered (they would redact everything). */
void tide_secret_add(const char *value);
/* Returns a malloc'd copy of s with every secret replaced by "***" (overlapping secrets: the
 * whole span they cover); NULL only without memory. */
char *tide_redact(const char *s);
/* Redacts in place a fixed buffer, for hot paths that already have one. The result is never
 * longer. A full buffer (strlen == len - 1) is taken as cut by its writer: a tail that begins
 * a secret is replaced by "***" too, so a secret cut at the edge does not leak its start.
 * Better still, redact before cutting (tide_redact, then copy). */
void tide_redact_buf(char *buf, size_t len);
/* Whether tide_redact(s) may differ from s: a cheap test (no allocation) for hot paths that
 * redact only when needed. */
bool tide_redact_changes(const char *s);
void tide_secrets_clear(void);
/* Redacts every string (values and keys) of a JSON tree in place; numbers and structure are
 * untouched, so the document stays valid whatever the secrets look like. */
struct cJSON;
void tide_redact_json(struct cJSON *j);

#endif
