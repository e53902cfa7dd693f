// Validate one FHIR R4 resource (a JSON file) offline with the npm "fhir" package.
// Prints {"valid": bool, "messages": [...]}; exits 0 when valid, 1 when not.
// NODE_PATH points at the node_modules that hold "fhir" (scripts/test.sh installs it).
"use strict";
const fs = require("fs");
const { Fhir } = require("fhir");

const resource = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const result = new Fhir().validate(resource);
process.stdout.write(JSON.stringify(result));
process.exitCode = result.valid ? 0 : 1;
