import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync } from 'node:fs';
import { artifactDir, keptArtifacts } from '../apply/snapshot.js';
import { join } from 'node:path';
import { getKind } from '../kinds/registry.js';
import type { Plan, ReleaseConfig } from '../plan/types.js';
import { SecretVault } from '../secrets/vault.js';
import { StateStore } from '../state/store.js';
import { distinctFreePorts } from '../util/ports.js';
import { targetPorts, type CopyMap, type CurrentService } from './translate.js';

/** What a rehearsal needs to know of its target, read once from the target's state store. */
export interface TargetView {
  serial: number;
  current: CurrentService[];
  ports: number[];
  /** `${secrets.NAME}` resolved with the target's values (for pg_basebackup); never logged. */
  secret: (template: string) => string;
}

/** Read the target's current releases (in the plan's dependency order), ports and secrets. Changes nothing. */
export function readTarget(stateDir: string, plan: Plan): TargetView {
  const store = new StateStore(stateDir);
  const vault = new SecretVault(store);
  try {
    const order = plan.changes.map((c) => c.service);
    const services = store.services(plan.env).sort((a, b) => rank(order, a.name) - rank(order, b.name));
    const current: CurrentService[] = [];
    for (const s of services) {
      const rel = s.currentRelease ? store.release(s.currentRelease) : null;
      if (!rel) continue;
      const config = rel.config as ReleaseConfig;
      const running = store.instances(plan.env, { release: rel.id, live: true }).length;
      const replicas = s.kind === 'app' ? running || (plan.replicas[s.name] ?? 1) : config.instances.length;
      current.push({ name: s.name, kind: s.kind, release: rel.id, config, replicas, prepare: getKind(s.kind).prepare !== undefined });
    }
    const values = new Map<string, string>();
    const secret = (template: string): string => template.replace(/\$\{secrets\.([A-Za-z0-9_.-]+)\}/g, (_m, name: string) => {
      if (!values.has(name)) values.set(name, vault.get(plan.env, name));
      return values.get(name) as string;
    });
    // Decrypt what pg_basebackup will need now, while the store is open.
    for (const s of current) for (const d of s.config.instances) Object.values(d.env).forEach(secret);
    return { serial: store.serial(), current, ports: targetPorts(plan, current, services.map((s) => s.ports)), secret };
  } finally {
    store.close();
  }
}

function rank(order: string[], name: string): number {
  const i = order.indexOf(name);
  return i < 0 ? order.length : i;
}

/** A free port for every target port, none equal to a target port or to each other. */
export async function allocateCopyPorts(ports: number[]): Promise<Record<number, number>> {
  const fresh = await distinctFreePorts(ports.length, ports);
  return Object.fromEntries(ports.map((p, i) => [p, fresh[i]]));
}

/**
 * Create the copy's state dir: the target's secret key, the environment's
 * encrypted secrets (so generated passwords match the copied data), and the
 * target's release file snapshots (the current releases run the files they
 * were released with, not the edited ones on disk), nothing else.
 */
export function createCopyState(map: CopyMap, env: string): void {
  mkdirSync(map.toStateDir, { recursive: true, mode: 0o711 });
  for (const digest of keptArtifacts(map.fromStateDir)) {
    cpSync(artifactDir(map.fromStateDir, digest), artifactDir(map.toStateDir, digest), { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
  }
  const key = join(map.fromStateDir, 'secret.key');
  if (existsSync(key)) {
    copyFileSync(key, join(map.toStateDir, 'secret.key'));
    chmodSync(join(map.toStateDir, 'secret.key'), 0o600);
  }
  const from = new StateStore(map.fromStateDir);
  const to = new StateStore(map.toStateDir);
  try {
    const rows = from.db.prepare(`SELECT env, name, digest, ciphertext, updated_at FROM secrets WHERE env = ?`).all(env);
    const put = to.db.prepare(`INSERT OR REPLACE INTO secrets (env, name, digest, ciphertext, updated_at) VALUES (@env, @name, @digest, @ciphertext, @updated_at)`);
    to.transaction(() => rows.forEach((r) => put.run(r)));
  } finally {
    from.close();
    to.close();
  }
}
