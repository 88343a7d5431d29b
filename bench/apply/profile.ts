import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../src/util/exec.js';
import { freePort } from '../../src/util/ports.js';
import { APP, BIN, cleanup, symphony } from '../../test/helpers/cli.js';
import { summarizeProfiles, type ProfileSummary } from '../lib/cpu-profile.js';
import { formatTable, machineInfo, note, ROOT, writeResult } from '../lib/report.js';
import { median } from '../lib/stats.js';
import { writeStack } from './stack.js';

/**
 * Where the no-change plan's time and the agent's memory go: the CLI run
 * under `node --cpu-prof` against an applied 20-service stack (time by package
 * and source folder), and each dependency the CLI loads imported alone in a
 * fresh Node (time and RSS it adds over a bare Node).
 * Run: npm run build && node --import tsx bench/apply/profile.ts   (APPLY_PROFILE_RUNS, default 10)
 */
const RUNS = Number(process.env.APPLY_PROFILE_RUNS ?? 10);
const MODULES = ['commander', 'zod', 'yaml', 'pino', 'undici', 'better-sqlite3', 'pg', 'ws', 'prom-client', 'libpg-query', 'croner'];
/** The build's bundles that load without starting anything: the CLI (all verbs, lazily initialised) and the planner alone. */
const OWN = ['dist/cli/cli.cjs', 'dist/cli/planning.js'];

async function profileCommand(args: string[], cwd: string, dir: string): Promise<ProfileSummary> {
  for (let i = 0; i < RUNS; i++) {
    const r = await run(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, BIN, ...args], { cwd, timeoutMs: 60_000 });
    if (r.code !== 0) throw new Error(`symphony ${args.join(' ')} exited with ${r.code}: ${r.stderr}`);
  }
  return summarizeProfiles(dir);
}

/** Import one module in a fresh Node, RUNS times; median wall time of the import and the RSS after it. */
async function importCost(spec: string): Promise<{ module: string; importMs: number; rssMiB: number }> {
  const code = `const t=performance.now();await import(${JSON.stringify(spec)});process.stdout.write(JSON.stringify({ms:performance.now()-t,rss:process.memoryUsage().rss}))`;
  const ms: number[] = [];
  const rss: number[] = [];
  for (let i = 0; i < Math.max(3, Math.ceil(RUNS / 2)); i++) {
    const r = await run(process.execPath, ['--input-type=module', '-e', code], { cwd: ROOT, timeoutMs: 60_000 });
    if (r.code !== 0) throw new Error(`importing ${spec} failed: ${r.stderr}`);
    const v = JSON.parse(r.stdout) as { ms: number; rss: number };
    ms.push(v.ms);
    rss.push(v.rss / 2 ** 20);
  }
  return { module: spec, importMs: median(ms), rssMiB: median(rss) };
}

function printProfile(title: string, p: ProfileSummary): void {
  console.log(`\n${title}: ${p.profiles} runs, mean sampled ${p.meanMs.toFixed(0)} ms per run`);
  console.log(formatTable(['where', 'total ms', 'self ms', 'share'], p.entries.slice(0, 18).map((e) => [e.where, e.totalMs, e.selfMs, `${((e.totalMs / p.meanMs) * 100).toFixed(0)}%`])));
  console.log('\nhottest functions (self):');
  console.log(formatTable(['function', 'self ms'], p.functions.slice(0, 10).map((f) => [f.fn, f.selfMs])));
}

async function main(): Promise<void> {
  if (!existsSync(join(ROOT, 'dist/cli/main.js'))) throw new Error('the CLI is not built: run `npm run build`, then `node --import tsx bench/apply/profile.ts`');
  const machine = machineInfo();
  const work = mkdtempSync(join(tmpdir(), 'symphony-bench-profile-'));
  const routePorts = [await freePort(), await freePort(), await freePort(), await freePort()];
  const dir = writeStack({ count: 20, routePorts }, APP);
  const state = join(dir, '.symphony');
  try {
    const applied = await symphony(['apply', '--yes'], { cwd: dir });
    if (applied.code !== 0) throw new Error(`apply of the 20-service stack failed: ${applied.stderr.slice(-2000)}`);
    const plan = await profileCommand(['plan', '--json'], dir, join(work, 'plan'));
    const version = await profileCommand(['--version'], dir, join(work, 'version'));
    printProfile('symphony plan --json (no change, 20 services)', plan);
    printProfile('symphony --version', version);

    const bare = await importCost('node:os');
    const costs = [];
    for (const m of [...MODULES, ...OWN.map((f) => join(ROOT, f))]) costs.push(await importCost(m));
    console.log(`\nimport cost of each module alone in a fresh Node (bare Node: ${bare.rssMiB.toFixed(1)} MiB RSS)`);
    console.log(formatTable(['module', 'import ms', 'RSS MiB', '+RSS MiB'], costs.map((c) => [c.module.replace(ROOT + '/', ''), c.importMs, c.rssMiB, c.rssMiB - bare.rssMiB])));
    const path = writeResult('apply-profile', 'npm run build && node --import tsx bench/apply/profile.ts', machine, { runs: RUNS, plan, version, bareNodeRssMiB: bare.rssMiB, importCosts: costs });
    console.log(`\nwrote ${path}`);
  } finally {
    await cleanup(state);
    rmSync(dir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  }
}

try {
  await main();
} catch (err) {
  process.stderr.write(`apply profile failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
