import { releaseIdOf } from '../plan/release.js';
import type { Plan, PlanRoute, PlanStep, ReleaseConfig } from '../plan/types.js';

/**
 * How the rehearsal copy differs from its target: another state dir and
 * another number for every port the target owns. Everything else (stack,
 * environment name, app files, settings) stays the same.
 */
export interface CopyMap {
  fromStateDir: string;
  toStateDir: string;
  /** Target port -> copy port. */
  ports: Record<number, number>;
  /** The target's and the copy's Symphony-owned roots (volumes its server account could not reach under the state dir). */
  sharedRoots?: { from: string; to: string };
}

/** A service of the target at its current release. */
export interface CurrentService {
  name: string;
  kind: string;
  release: string;
  config: ReleaseConfig;
  /** Running instances of the current release (replica count to restore). */
  replicas: number;
  /** The kind has a `prepare` step (initdb, etcd version check…). */
  prepare: boolean;
}

const PORT_KEYS = new Set(['port', 'listen']);

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Rewrite one string: the state dir (and shared root) as a path prefix, then
 * every mapped port standing alone (`:5432/`, `-p 5432`). A pipeline's frozen
 * builds (`<state>/pipeline/builds/<digest>`) stay: they are immutable and
 * every environment, a copy too, runs the same files.
 */
export function translateString(text: string, map: CopyMap): string {
  const dir = new RegExp(`${escape(map.fromStateDir)}(?=$|/|[^\\w.-])(?!/pipeline/builds/)`, 'g');
  let out = text.replace(dir, map.toStateDir);
  if (map.sharedRoots) out = out.replace(new RegExp(`${escape(map.sharedRoots.from)}(?=$|/|[^\\w.-])`, 'g'), map.sharedRoots.to);
  const ports = Object.keys(map.ports);
  if (ports.length === 0) return out;
  const re = new RegExp(`(?<![\\w.])(${ports.map(escape).join('|')})(?![\\w.])`, 'g');
  out = out.replace(re, (p: string) => String(map.ports[Number(p)]));
  return out;
}

/**
 * `inPorts`: the value sits under a `ports` key, so every number in it is a
 * port whatever its own key (`client-0`, `peer-2`: an etcd service's stable
 * ports). Missing one leaves the copy's members pointed at the target's peers.
 */
function translateValue(value: unknown, map: CopyMap, key: string | null, inPorts: boolean): unknown {
  if (typeof value === 'string') return translateString(value, map);
  if (typeof value === 'number') return (inPorts || (key !== null && PORT_KEYS.has(key))) && map.ports[value] !== undefined ? map.ports[value] : value;
  if (Array.isArray(value)) return value.map((v) => translateValue(v, map, null, inPorts));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, translateValue(v, map, k, inPorts || k === 'ports')]));
  }
  return value;
}

/** The same release for the copy: paths under the copy's state dir, the copy's ports. */
export function translateConfig(config: ReleaseConfig, map: CopyMap): ReleaseConfig {
  return translateValue(config, map, null, false) as ReleaseConfig;
}

/** Route with the copy's listen port; its id (`<env>:<listen>[:…]`) follows. */
export function translateRoute(route: PlanRoute, map: CopyMap): PlanRoute {
  const listen = map.ports[route.listen] ?? route.listen;
  const [env, , ...rest] = route.id.split(':');
  return { ...route, listen, id: [env, String(listen), ...rest].join(':') };
}

/** Every port of the target the copy must not share: stable service ports, ports in the plan's releases, route listeners. */
export function targetPorts(plan: Plan, current: CurrentService[], recorded: Array<Record<string, number>>): number[] {
  const out = new Set<number>();
  for (const ports of recorded) Object.values(ports).forEach((p) => out.add(p));
  for (const s of current) Object.values(s.config.ports).forEach((p) => out.add(p));
  for (const cfg of Object.values(plan.releases)) Object.values(cfg.ports).forEach((p) => out.add(p));
  for (const r of plan.routes) out.add(r.listen);
  return [...out].sort((a, b) => a - b);
}

/**
 * The plan that brings an empty copy to the target's current state: every
 * service created at its current release (translated), with the target's
 * replica counts and the routes of services that exist. Pure.
 */
export function restorePlan(plan: Plan, current: CurrentService[], map: CopyMap, serial: number): { plan: Plan; ids: Record<string, string> } {
  const ids: Record<string, string> = {};
  const releases: Record<string, ReleaseConfig> = {};
  const steps: PlanStep[] = [];
  const replicas: Record<string, number> = {};
  for (const s of current) {
    const config = translateConfig(s.config, map);
    const id = releaseIdOf(plan.env, config);
    ids[s.release] = id;
    releases[id] = config;
    replicas[s.name] = s.replicas;
    const step = (verb: PlanStep['verb']): PlanStep => ({ name: `${s.name}:${verb}`, service: s.name, verb, release: id, previous: null });
    if (config.volume) steps.push(step('volume'));
    steps.push(step('release'));
    if (s.prepare) steps.push(step('prepare'));
    steps.push(step('start'), step('health'), step('switch'));
  }
  const names = new Set(current.map((s) => s.name));
  return {
    ids,
    plan: {
      format: 1,
      kind: 'apply',
      stack: plan.stack,
      env: plan.env,
      stackFile: plan.stackFile,
      serial,
      changes: current.map((s) => ({ service: s.name, kind: s.kind, action: 'create', reasons: ['restored from the target'], from: null, to: ids[s.release] })),
      steps,
      releases,
      routes: plan.routes.filter((r) => names.has(r.service)).map((r) => translateRoute(r, map)),
      replicas,
    },
  };
}

/** The target's plan, made for the copy: same steps and releases, the copy's ids, paths and ports. Pure. */
export function translatePlan(plan: Plan, currentIds: Record<string, string>, map: CopyMap, serial: number): Plan {
  const ids: Record<string, string> = { ...currentIds };
  const releases: Record<string, ReleaseConfig> = {};
  for (const [id, cfg] of Object.entries(plan.releases)) {
    const config = translateConfig(cfg, map);
    ids[id] = releaseIdOf(plan.env, config);
    releases[ids[id]] = config;
  }
  const idOf = (id: string | null): string | null => (id === null ? null : (ids[id] ?? id));
  return {
    ...plan,
    serial,
    changes: plan.changes.map((c) => ({ ...c, from: idOf(c.from), to: idOf(c.to) })),
    steps: plan.steps.map((s) => ({ ...s, release: idOf(s.release), previous: idOf(s.previous) })),
    releases,
    routes: plan.routes.map((r) => translateRoute(r, map)),
  };
}
