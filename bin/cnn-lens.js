#!/usr/bin/env node
// The npm `bin` entry: runs the bundled CLI (dist/cli.js is built by `npm install` through `prepare`, or `npm run build`).
require('../dist/cli.js')
  .main(process.argv.slice(2))
  .then((code) => process.exit(code));
