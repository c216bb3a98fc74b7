/* crypt_cli.h: the commands around age files, so a team can produce and read what an
 * encrypted export holds without another tool:
 *   tide keygen --out KEYFILE                 a new identity (0600) and its recipient
 *   tide encrypt FILE --to RECIPIENT [--out OUT]   (OUT defaults to FILE.age)
 *   tide decrypt FILE --identity KEYFILE [--out OUT]  (OUT defaults to FILE less .age;
 *                                                      '-' writes to stdout)
 * argv[0] is the command name. Return tide's exit codes: 0, 2 bad usage or input, 99 a file
 * that fails to decrypt (wrong key, changed bytes), 1 internal. */
#ifndef TIDE_CRYPT_CLI_H
#define TIDE_CRYPT_CLI_H

int tide_keygen_main(int argc, char **argv);
int tide_encrypt_main(int argc, char **argv);
int tide_decrypt_main(int argc, char **argv);

#endif
