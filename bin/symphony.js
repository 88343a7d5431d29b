#!/usr/bin/env node
import('../dist/cli/main.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/cli/main.js')) {
    process.stderr.write('symphony is not built yet: run `npm run build` in ' + new URL('..', import.meta.url).pathname + '\n');
    process.exit(1);
  }
  throw err;
});
