#!/usr/bin/env node
// The npm `bin` entry: runs the bundled CLI (dist/cli.js is built by `npm install` through `prepare`, or `npm run build`).
let settled = false;
// A library promise that never settles would let Node exit with status 0 and no output: say so instead.
process.on('beforeExit', () => {
  if (!settled) {
    process.stderr.write('cnn-lens: internal error: the operation stopped without finishing (please report it with the model file)\n');
    process.exit(1);
  }
});
require('../dist/cli.js')
  .main(process.argv.slice(2))
  .then((code) => {
    settled = true;
    process.exit(code);
  });
