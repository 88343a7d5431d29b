#!/usr/bin/env node
// The build (`npm run build`): tsc type-checks src (no output), then esbuild
// bundles the programs into dist/, minified, with source maps:
//   dist/cli/cli.cjs      the CLI: one CommonJS bundle of src/cli/main.ts (verbs load lazily
//                         inside it) and its V8 code cache cli.cjs.<hash>.cache, made by a warm-up
//                         `plan` of a small stack at the end of the build
//   dist/cli/main.js      src/cli/entry.ts, which bin/symphony.js imports: compiles cli.cjs with
//                         that cache and runs it
//   dist/agent/main.js    the agent daemon; dist/router/main.js the router; dist/router/follower.js
//                         its follower process: each one self-contained ES module (no chunks to
//                         load later, so a daemon that outlives a rebuild keeps working)
//   dist/cli/planning.js  the planner alone, for bench/apply's in-process measure
// Native or file-loading packages stay in node_modules (better-sqlite3, libpg-query, pg), and
// undici (the router's node:http fallback path and rehearsal smoke checks; the agent never loads it).
// The build goes to dist.build-<pid>/ and is swapped in with two renames, so a CLI started
// while a build runs finds a whole build, old or new.
// Options: --no-minify (readable stack traces and CPU profiles), --no-typecheck (bundle only).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');
const args = new Set(process.argv.slice(2));

if (!args.has('--no-typecheck')) {
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json'), '--noEmit'], { stdio: 'inherit', cwd: root });
}

/**
 * Every output file lies one folder below dist/ (dist/cli, dist/agent, dist/router), so
 * `import.meta.url` in a source file is rewritten to the URL that file would have
 * unbundled (dist/<its folder>/<its name>.js): the spawn paths written relative to it
 * (agent, router, router follower) keep pointing at the entry files. CommonJS has no
 * import.meta; there the URL is made from the bundle's own folder.
 */
const unbundledMetaUrl = (format) => ({
  name: 'unbundled-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, (a) => {
      const text = readFileSync(a.path, 'utf8');
      if (!a.path.startsWith(src + '/') || !text.includes('import.meta.url')) return undefined;
      const unbundled = relative(src, a.path).replace(/\.ts$/, '.js');
      const url = format === 'cjs' ? `require('node:url').pathToFileURL(__dirname + ${JSON.stringify('/../' + unbundled)}).href` : `new URL(${JSON.stringify('../' + unbundled)}, import.meta.url).href`;
      return { contents: text.replaceAll('import.meta.url', url), loader: 'ts' };
    });
  },
});

/**
 * Smaller, faster-loading copies of two dependencies, same behaviour for Symphony:
 * - zod's `z.locales` (40 translations of its error messages, 60% of zod's code) is never
 *   used: only the English messages zod configures itself with are kept;
 * - yaml's ES module build (the one it ships for bundlers) instead of its CommonJS one,
 *   so the bundler can drop what Symphony does not use and skip the CommonJS wrappers.
 */
const slimDependencies = {
  name: 'slim-dependencies',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (a) => (/[\\/]zod[\\/]v4[\\/](classic|core)[\\/]/.test(a.importer) ? { path: join(dirname(a.importer), '../locales/index.js'), namespace: 'zod-locales' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (a) => ({ contents: `export { default as en } from ${JSON.stringify(join(dirname(a.path), 'en.js'))};`, loader: 'js', resolveDir: dirname(a.path) }));
    b.onResolve({ filter: /^yaml$/ }, () => ({ path: join(root, 'node_modules/yaml/browser/index.js') }));
  },
};

const out = join(root, `dist.build-${process.pid}`);
rmSync(out, { recursive: true, force: true });
const common = {
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  target: 'node20',
  outdir: out,
  outbase: 'src',
  entryNames: '[dir]/[name]',
  minify: !args.has('--no-minify'),
  keepNames: true,
  sourcemap: 'linked',
  sourcesContent: false,
  legalComments: 'none',
  logLevel: 'warning',
  // undici is loaded from node_modules where it is used (router fallback path, smoke checks), not bundled.
  external: ['better-sqlite3', 'libpg-query', 'pg', 'undici', 'dockerode'],
};
const esm = {
  ...common,
  format: 'esm',
  // Bundled CommonJS packages call require() for Node built-ins; ESM has none, so give each file one.
  banner: { js: "import { createRequire as __symphonyRequire } from 'node:module'; const require = __symphonyRequire(import.meta.url);" },
  plugins: [unbundledMetaUrl('esm'), slimDependencies],
};

/** Run the new CLI once on a small stack so that the code cache holds what a plan compiles. */
function warmCodeCache(entry) {
  const dir = mkdtempSync(join(tmpdir(), 'symphony-build-'));
  try {
    writeFileSync(join(dir, 'server.mjs'), '');
    writeFileSync(
      join(dir, 'symphony.yaml'),
      'name: warm\nservices:\n  web:\n    run: node server.mjs\n    health: { http: /healthz }\n  api:\n    run: node server.mjs\n    env: { WEB: "${web.url}" }\n    uses: [web]\nroutes:\n  - { listen: 65000, to: web }\n',
    );
    execFileSync(process.execPath, [entry, 'plan', '--json', '-f', join(dir, 'symphony.yaml'), '--state-dir', join(dir, 'state')], {
      env: { ...process.env, SYMPHONY_WRITE_CODE_CACHE: '1' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

try {
  await Promise.all([
    build({
      ...common,
      format: 'cjs',
      entryPoints: { 'cli/cli': 'src/cli/main.ts' },
      outExtension: { '.js': '.cjs' },
      // import() of an external package (pg, undici) becomes require(): a vm.Script has no module loader of its own.
      supported: { 'dynamic-import': false },
      plugins: [unbundledMetaUrl('cjs'), slimDependencies],
    }),
    build({ ...esm, entryPoints: ['src/agent/main.ts', 'src/router/main.ts', 'src/router/follower.ts', 'src/cli/planning.ts', 'src/pipeline/load-main.ts', 'src/runtime/container/relay-main.ts'] }),
  ]);
  const hash = createHash('sha256').update(readFileSync(join(out, 'cli/cli.cjs'))).digest('hex').slice(0, 16);
  await build({ ...esm, entryPoints: { 'cli/main': 'src/cli/entry.ts' }, define: { CLI_BUNDLE_HASH: JSON.stringify(hash) } });
} catch (err) {
  rmSync(out, { recursive: true, force: true });
  throw err;
}

const dist = join(root, 'dist');
const old = join(root, `dist.old-${process.pid}`);
if (existsSync(dist)) renameSync(dist, old);
renameSync(out, dist);
rmSync(old, { recursive: true, force: true });
// In place, after the swap: V8 keeps the path the cache was made at in the code it describes.
warmCodeCache(join(dist, 'cli/main.js'));
