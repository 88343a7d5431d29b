import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

/**
 * The CLI's entry (dist/cli/main.js, loaded by bin/symphony.js). The CLI itself
 * is one CommonJS bundle (dist/cli/cli.cjs, built from src/cli/main.ts), compiled
 * here with the V8 code cache the build made for it (dist/cli/cli.cjs.<hash>.cache): V8
 * then neither parses the bundle nor compiles the functions a plan runs, which is
 * most of a short command's own CPU time. A cache V8 rejects (another Node, other
 * V8 flags) is ignored and the bundle compiled as usual. The cache is only ever
 * written by the build (SYMPHONY_WRITE_CODE_CACHE=1 on its warm-up run), beside
 * the bundle it belongs to, so it can never describe another build's code.
 */
interface CliModule {
  main(argv: string[]): Promise<void>;
}

/** Hash of cli.cjs, set by the build: a cache is only read for the bundle it was made from. */
declare const CLI_BUNDLE_HASH: string;

const bundle = fileURLToPath(new URL('./cli.cjs', import.meta.url));
// V8 checks a cache against the source's length only; the bundle's hash in the name checks the rest.
const cacheFile = `${bundle}.${CLI_BUNDLE_HASH}.cache`;

function readCache(): Buffer | undefined {
  try {
    return readFileSync(cacheFile);
  } catch {
    return undefined;
  }
}

const cachedData = readCache();
// The wrapper of a CommonJS module, on its own line so that line numbers match the bundle's source map.
const script = new Script(`(function (exports, require, module, __filename, __dirname) {\n${readFileSync(bundle, 'utf8')}\n})`, {
  filename: bundle,
  lineOffset: -1,
  cachedData,
});
if (process.env.SYMPHONY_WRITE_CODE_CACHE === '1') {
  // After the run, so that the cache holds every function the run compiled, not only the top level.
  process.once('exit', () => {
    writeFileSync(`${cacheFile}.tmp`, script.createCachedData());
    renameSync(`${cacheFile}.tmp`, cacheFile);
  });
}
const wrapper = script.runInThisContext() as (exports: object, require: NodeJS.Require, module: { exports: object }, filename: string, dirname: string) => void;
const cli = { exports: {} as CliModule };
wrapper.call(cli.exports, cli.exports, createRequire(bundle), cli, bundle, dirname(bundle));
await cli.exports.main(process.argv);
