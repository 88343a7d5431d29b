import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { dirDigest } from '../apply/artifact.js';
import { SpecError, SymphonyError } from '../errors.js';
import { registerBuiltinKinds } from '../kinds/builtin.js';
import { makePlan } from '../plan/planner.js';
import type { MigrationVersions, Plan, PlanState } from '../plan/types.js';
import { getRuntimeDriver } from '../runtime/registry.js';
import { SecretVault } from '../secrets/vault.js';
import { loadStack, type AppServiceSpec, type LoadedStack } from '../spec/index.js';
import { StateStore } from '../state/store.js';
import { stablePortBase } from '../plan/ports.js';
import { isPortFree } from '../util/ports.js';
import { getKind } from '../kinds/registry.js';
import { sharedRootOf, type VolumePlacement } from '../volumes/placement.js';
import { blockingDir } from '../volumes/reach.js';

export interface Planned {
  plan: Plan;
  stack: LoadedStack;
  /** Secret values read from their sources, to hand to the agent. Never printed. */
  secrets: Record<string, string>;
}

/** Read every declared secret from its source (env var or file). */
export function readSecrets(stack: LoadedStack): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of stack.secrets) {
    if (s.env !== undefined) {
      const v = process.env[s.env];
      if (!v) throw new SymphonyError(`secret ${s.name}: environment variable ${s.env} is ${v === undefined ? 'not set' : 'empty'}`, `export ${s.env}=... and run the command again`);
      out[s.name] = v;
    } else if (s.file !== undefined) {
      if (!existsSync(s.file)) throw new SymphonyError(`secret ${s.name}: file ${s.file} does not exist`, 'create the file or fix secrets.' + s.name + '.file');
      out[s.name] = readFileSync(s.file, 'utf8').replace(/\r?\n$/, '');
    }
  }
  return out;
}

/** Recorded and observed state, as the pure planner wants it. */
export async function planState(store: StateStore, env: string): Promise<PlanState> {
  const driver = getRuntimeDriver('process', { scope: store.dir });
  const services = store.services(env);
  const instances = store.instances(env);
  // Identity is pid + start time: one stat per instance the planner asks about (not stopped or
  // failed), not a scan of every process on the machine.
  const alive = instances
    .filter((i) => i.status !== 'stopped' && i.status !== 'failed' && i.pid !== null && i.startTime !== null && driver.isAlive({ id: i.id, pid: i.pid, startTime: i.startTime }))
    .map((i) => i.id);
  return {
    serial: store.serial(),
    services,
    releases: services.flatMap((s) => store.releases(env, s.name)),
    instances,
    volumes: store.volumes(env),
    alive,
    keptPorts: store.keptPorts(env),
  };
}

/** Ports recorded for other environments of the same state dir. */
export function portsOfOtherEnvs(store: StateStore, env: string): number[] {
  const rows = store.db.prepare(`SELECT ports FROM services WHERE env != ? UNION ALL SELECT ports FROM kept_ports WHERE env != ?`).pluck().all(env, env) as string[];
  return rows.flatMap((r) => Object.values(JSON.parse(r) as Record<string, number>));
}

/** Stable ports the plan hands out for the first time that something else already listens on. */
async function busyNewPorts(plan: Plan, state: PlanState): Promise<number[]> {
  const recorded = new Set([...state.services.flatMap((s) => Object.values(s.ports)), ...Object.values(state.keptPorts ?? {}).flatMap((p) => Object.values(p))]);
  const fresh = Object.values(plan.releases).flatMap((r) => Object.values(r.ports)).filter((p) => !recorded.has(p));
  const busy: number[] = [];
  for (const p of new Set(fresh)) if (!(await isPortFree(p))) busy.push(p);
  return busy;
}

/** Versions in each postgres service's migrations dir (files are validated here, before anything runs). */
async function migrationVersions(stack: LoadedStack): Promise<{ migrations: MigrationVersions; migrationSchemas: Record<string, Record<string, string>> }> {
  const migrations: MigrationVersions = {};
  const migrationSchemas: Record<string, Record<string, string>> = {};
  for (const s of stack.services) {
    const dir = (s.spec as { migrations?: string }).migrations;
    if (s.kind !== 'postgres' || !dir) continue;
    const { loadMigrations } = await import('../migrate/load.js');
    const files = loadMigrations(resolve(stack.dir, dir));
    migrations[s.name] = files.map((m) => m.name);
    migrationSchemas[s.name] = Object.fromEntries(files.flatMap((m) => (m.versionSchema ? [[m.name, m.versionSchema]] : [])));
  }
  return { migrations, migrationSchemas };
}

/** An app's files already built by a pipeline run: released from `dir`, checked against `digest`. */
export type BuiltApps = Record<string, { dir: string; digest: string }>;

/**
 * Services whose server runs as an account that cannot traverse the state
 * dir (postgres as root, in a 0700 directory): their new volumes go under the
 * state dir's Symphony-owned root instead. One stat per parent directory.
 */
export function volumePlacements(stack: LoadedStack, stateDir: string): Record<string, VolumePlacement> {
  const out: Record<string, VolumePlacement> = {};
  for (const s of stack.services) {
    const kind = getKind(s.kind);
    if (!(s.spec as { volume?: string }).volume || !kind.volumeAccount) continue;
    const account = kind.volumeAccount();
    const blocked = account ? blockingDir(account, stateDir) : null;
    if (account && blocked) out[s.name] = { root: sharedRootOf(stateDir), reason: `the ${account.name} account cannot traverse ${blocked}` };
  }
  return out;
}

/**
 * A container app's artifact: its image ID, built now through the engine
 * (the engine's cache makes the same inputs the same ID, so an unchanged
 * service plans no change) or looked up by name. Starts Symphony's dockerd
 * when none runs, and says so on stderr.
 */
async function containerArtifact(stack: LoadedStack, service: string, image: NonNullable<AppServiceSpec['image']>): Promise<string> {
  const { requireEngine } = await import('../runtime/container/engine.js');
  const { resolveImage } = await import('../runtime/container/image.js');
  const engine = await requireEngine({ onStart: (line) => process.stderr.write(`symphony: ${line}\n`) });
  return (await resolveImage(engine, image, { stackDir: stack.dir, stack: stack.name, service })).id;
}

/** Load the stack, read secrets and state, and make the plan. */
export async function computePlan(file: string, env: string | undefined, stateDir: string, target?: string[], built?: BuiltApps): Promise<Planned> {
  registerBuiltinKinds();
  const stack = loadStack(file, { env });
  for (const s of stack.services) if (built?.[s.name]) (s.spec as { dir?: string }).dir = built[s.name].dir;
  for (const t of target ?? []) {
    if (!stack.services.some((s) => s.name === t)) {
      throw new SpecError([{ file: stack.file, line: 1, column: 1, path: `--target ${t}`, message: `no service named ${t}; services: ${stack.services.map((s) => s.name).join(', ')}` }]);
    }
  }
  const secrets = readSecrets(stack);
  const store = new StateStore(stateDir);
  try {
    const vault = new SecretVault(store);
    const digests: Record<string, string> = { ...vault.digests(stack.env) };
    for (const [name, value] of Object.entries(secrets)) digests[name] = vault.hmac(value);
    const artifacts: Record<string, string> = {};
    for (const s of stack.services) {
      if (s.kind !== 'app') continue;
      const app = s.spec as AppServiceSpec;
      if (app.runtime === 'container' && app.image !== undefined) artifacts[s.name] = await containerArtifact(stack, s.name, app.image);
      else artifacts[s.name] = built?.[s.name]?.digest ?? dirDigest(resolve(stack.dir, app.dir ?? '.'), `services.${s.name}.dir`);
    }
    const state = await planState(store, stack.env);
    const { migrations, migrationSchemas } = await migrationVersions(stack);
    const used = portsOfOtherEnvs(store, stack.env);
    const placements = volumePlacements(stack, stateDir);
    // The planner is pure; a port it hands out for the first time must also be free on this machine.
    for (let attempt = 0; ; attempt++) {
      const plan = makePlan({ stack, state, stateDir, artifacts, secretDigests: digests, usedPorts: used, portBase: stablePortBase(stateDir, stack.env), target, migrations, migrationSchemas, volumePlacements: placements });
      const busy = await busyNewPorts(plan, state);
      if (busy.length === 0 || attempt > 50) return { plan, stack, secrets };
      used.push(...busy);
    }
  } finally {
    store.close();
  }
}
