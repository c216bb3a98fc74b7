/* audit_cmd.h: the commands over stored runs' audit trail: `tide verify DIR [--allowed-signers
 * F]`, `tide sign DIR --key KEY`, `tide audit [DIR]`. Each records its access in the ledger
 * (ledger.h). argv[0] is the command name. Exit codes as docs/cli.md#exit-codes: 0 intact, 99
 * changed / broken / bad signature, 2 usage. */
#ifndef TIDE_AUDIT_CMD_H
#define TIDE_AUDIT_CMD_H

int tide_verify_main(int argc, char **argv);
int tide_sign_main(int argc, char **argv);
int tide_audit_main(int argc, char **argv);

#endif
