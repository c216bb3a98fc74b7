/* privacy.h: the privacy filter every text tide writes goes through (after secret redaction,
 * inside tide_redact, tide_redact_buf and tide_redact_json of log.h), so that no personal data
 * or credential of the system under test reaches a file, the terminal or a payload.
 *
 * Built-in detectors (each can be kept off by name, see tide_privacy_keep):
 *   userinfo  credentials in URLs: http://user:pw@host, the user:pw part becomes "***"
 *   email     e-mail addresses (also %40):    jane@example.com      -> [email:1a2b3c4d]
 *   jwt       JSON web tokens:                eyJ...x.y.z           -> [jwt:...]
 *   bearer    Bearer and Basic credentials:   Bearer abc...         -> Bearer [token:...]
 *   header    Authorization, Cookie, Set-Cookie, Proxy-Authorization, X-Api-Key values
 *   field     query/form/JSON fields named like password, token, secret, key, sig, auth,
 *             session: token=abc, "password":"x"                   -> token=[secret:...]
 *   card      13..19-digit card numbers that pass the Luhn check   -> [card:...]
 *   iban      IBANs that pass the mod-97 check                     -> [iban:...]
 *   phone     +CC numbers (8..15 digits), (555) 123-4567, 555-123-4567, 030 1234 5678
 * User rules (POSIX extended regular expressions) drop a match ("[dropped]") or pseudonymise it
 * ("[pseudo:...]"); they run before the built-in detectors.
 *
 * A pseudonym is the first 4 bytes of HMAC-SHA256(key, kind:value) in hex, with a random key
 * made once per process and never written anywhere: equal values get equal pseudonyms within a
 * run (they still group), and nobody can recompute them afterwards. While the process runs the
 * key exists, so this is pseudonymisation, not anonymisation (docs/privacy.md).
 *
 * Configuration (enable, rules, keep) is set up before the run's threads start and only read
 * afterwards; filtering is thread-safe. Output can be longer than input (a pseudonym is 11 to
 * 16 bytes), never contains a detected value, and filtering it again changes nothing. */
#ifndef TIDE_PRIVACY_H
#define TIDE_PRIVACY_H
#include <stdbool.h>
#include <stddef.h>
#include "err.h"

/* On by default; options.privacy = false turns it off (the manifest records it). */
void tide_privacy_set_enabled(bool on);
bool tide_privacy_enabled(void);

enum tide_privacy_action { TIDE_PRIVACY_DROP, TIDE_PRIVACY_PSEUDONYMISE };
/* Adds a user rule; -1 with a message when the pattern does not compile (or too many rules). */
int tide_privacy_add_rule(enum tide_privacy_action action, const char *pattern,
                          struct tide_err *err);
/* Keeps something the filter would hide: a detector's name (see above) turns it off; any other
 * name is a field or header whose value is kept (for the field and header detectors). */
int tide_privacy_keep(const char *name, struct tide_err *err);
/* Back to the defaults: on, no rules, nothing kept. */
void tide_privacy_reset(void);

/* Sampled error bodies: kept by default, none with --no-samples. */
void tide_privacy_set_samples(bool keep);
bool tide_privacy_samples(void);

/* The filtered copy of s (malloc'd; NULL only without memory). s NULL is "". */
char *tide_privacy_filter(const char *s);
/* Filters the string in 'buf' (of 'len' bytes) in place; a longer result is cut to fit, which
 * cuts only pseudonyms and text that needs no hiding. No allocation when nothing matches. */
void tide_privacy_filter_buf(char *buf, size_t len);
/* Whether s may contain something the filter changes (a cheap scan, no allocation). False
 * means tide_privacy_filter(s) would return s unchanged. */
bool tide_privacy_may_match(const char *s);
/* Whether a field or header of this name has its value hidden whatever it is (password,
 * token, authorization...), unless kept. For JSON trees: {"password": "x"}. */
bool tide_privacy_sensitive_name(const char *name);
/* The value of a field named 'name' as it may be written (malloc'd, NULL without memory): a
 * pseudonym when the name is sensitive (and the value is not one already), else
 * tide_privacy_filter(value). */
char *tide_privacy_filter_value(const char *name, const char *value);
/* The pseudonym of 'value' of 'kind' ("[kind:8 hex]"), into out (>= 32 bytes is enough for
 * kinds of up to 16 letters). */
void tide_privacy_pseudonym(const char *kind, const char *value, size_t n, char *out, size_t len);

/* The active settings as a JSON object (malloc'd text), for the run's manifest:
 * {"enabled":true,"detectors":[...],"drop":[...],"pseudonymise":[...],"keep":[...],
 *  "samples":true,"pseudonyms":"hmac-sha256, per-run key, not stored"} */
char *tide_privacy_describe(void);

#endif
