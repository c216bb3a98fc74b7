// A local S3-compatible server for tests/e2e/test_export_s3.py: s3rver on 127.0.0.1:PORT,
// storing in DIR, with the given buckets, accepting the access key id KEY_ID (s3rver only
// knows its built-in "S3RVER" otherwise). It checks access key ids but not SigV4 signatures
// (tests/unit/test_sigv4.c checks tide's signer). Prints "listening" once it accepts requests.
// Usage: node server.js PORT DIR KEY_ID BUCKET...
'use strict';
const S3rver = require('s3rver');
const AWSAccount = require('s3rver/lib/models/account');

const [port, directory, keyId, ...buckets] = process.argv.slice(2);
AWSAccount.DUMMY_ACCOUNT.createKeyPair(keyId, 'unchecked');
const server = new S3rver({
  address: '127.0.0.1',
  port: Number(port),
  directory,
  silent: true,
  configureBuckets: buckets.map((name) => ({ name, configs: [] })),
});
server.run((err) => {
  if (err) {
    console.error(err.message);
    process.exit(1);
  }
  console.log('listening');
});
