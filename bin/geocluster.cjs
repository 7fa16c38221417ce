#!/usr/bin/env node
// `npx geocluster ...`: the operator CLI (cli/main.ts), run from its TypeScript source through
// tsx, as the project runs everything else.
'use strict';
require('tsx/cjs');
require('../cli/main.ts')
  .main()
  .then((code) => process.exit(code));
