#!/usr/bin/env node
// Runs the TypeScript sources directly (tsx compiles on load), so there is no build step to forget.
// The CLI runs because this file calls it, not because of how it was reached: npx, `npm link` and a global
// install all start it through a link with another name.
require('tsx/cjs');
require('../cli/main.ts').runCli(process.argv);
