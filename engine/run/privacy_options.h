/* privacy_options.h: the run's privacy settings, from the script and the command line, into
 * the privacy filter (base/privacy.h), the secrets (base/log.h) and the host guard
 * (core/allowhosts.h):
 *   options.privacy = false                       the filter off (recorded in the manifest)
 *   options.privacy = { drop = {...}, pseudonymise = {...}, keep = {...} }
 *   --no-samples, --allow-hosts LIST, and the userinfo of the host (a secret). */
#ifndef TIDE_PRIVACY_OPTIONS_H
#define TIDE_PRIVACY_OPTIONS_H
#include <lua.h>
#include "cli.h"
#include "config.h"
#include "err.h"

/* options.privacy of the options table at 'opts' (nil or not a table: defaults). Resets the
 * filter first. -1 with a one-line message on a bad value or pattern. */
int tide_privacy_options_read(lua_State *L, int opts, struct tide_err *err);
/* The command line's settings and the resolved host: -1 when --allow-hosts is malformed or
 * leaves out the host itself (the one clear error at start). */
int tide_privacy_options_apply(const struct tide_cli *cli, const struct tide_config *cfg,
                               struct tide_err *err);
/* Registers the password (and the whole userinfo) of URL 'url' as secrets. */
void tide_privacy_options_url_secrets(const char *url);

#endif
