#!/usr/bin/env node
// `npx geocluster ...`: the operator CLI (cli/main.ts), run from its TypeScript source through
// tsx, as the project runs everything else.
'use strict';
require('tsx/cjs');
require('../cli/main.ts')
  .main()
  .then((code) => {
    // Exit once what was written has been handed to stdout and stderr: a pipe (`| jq`, `| less`)
    // takes 64 KiB at a time, and process.exit would drop the rest of a longer output.
    process.exitCode = code;
    process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
  });
