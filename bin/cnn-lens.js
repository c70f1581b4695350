#!/usr/bin/env node
// The npm `bin` entry: runs the bundled CLI (built by `npm run build`, which `npm install` runs via `prepare`).
require('../dist/cli.js');
