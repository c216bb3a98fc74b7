// Offline schema validation of Kubernetes manifests: every YAML document of every file given
// is built into its kubernetes-models class (by apiVersion and kind) and validated against the
// Kubernetes OpenAPI schema. Prints the documents as one JSON array (for further checks by the
// calling test) and exits 0; exits 1 naming the file, document and error otherwise.
"use strict";
const fs = require("fs");
const YAML = require("yaml");

function modelFor(apiVersion, kind) {
  const group = apiVersion.includes("/") ? apiVersion : "v1";
  let mod;
  try {
    mod = require("kubernetes-models/" + group);
  } catch (e) {
    return null;
  }
  return mod[kind] || null;
}

const out = [];
let failed = false;
for (const file of process.argv.slice(2)) {
  const docs = YAML.parseAllDocuments(fs.readFileSync(file, "utf8"));
  docs.forEach((d, i) => {
    if (d.errors.length > 0) {
      console.error(`${file} document ${i + 1}: YAML: ${d.errors[0].message}`);
      failed = true;
      return;
    }
    const obj = d.toJS();
    if (obj === null || obj === undefined) return;
    const Model = modelFor(String(obj.apiVersion), String(obj.kind));
    if (Model === null) {
      console.error(`${file} document ${i + 1}: no model for ${obj.apiVersion} ${obj.kind}`);
      failed = true;
      return;
    }
    try {
      new Model(obj).validate();
    } catch (e) {
      console.error(`${file} document ${i + 1} (${obj.kind} ${obj.metadata && obj.metadata.name}): ${e.message}`);
      failed = true;
      return;
    }
    out.push({ file, doc: obj });
  });
}
process.stdout.write(JSON.stringify(out));
process.exit(failed ? 1 : 0);
