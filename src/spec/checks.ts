import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Finding } from './issues.js';
import type { ServiceKindName } from './references.js';
import type { AppServiceSpec, ClusterServiceSpec, EtcdServiceSpec, PostgresServiceSpec, Route } from './schema.js';
import type { PathKey } from './source.js';

/**
 * A service as the cross-checks see it: its valid keys only, so that one bad
 * key does not hide the other issues of the same service.
 */
export type CheckedService =
  | { name: string; kind: 'app'; spec: Partial<AppServiceSpec> }
  | { name: string; kind: 'postgres'; spec: Partial<PostgresServiceSpec> }
  | { name: string; kind: 'etcd'; spec: Partial<EtcdServiceSpec> }
  | { name: string; kind: 'cluster'; spec: Partial<ClusterServiceSpec> };

/** A valid route and the path of the list it came from (`routes` or `environments.<env>.routes`). */
export interface PlacedRoute {
  route: Route;
  path: PathKey[];
}

/** `uses:` must name known services, and not the service itself. */
export function checkUses(services: readonly CheckedService[], names: readonly string[]): Finding[] {
  const out: Finding[] = [];
  for (const s of services) {
    (s.spec.uses ?? []).forEach((u, i) => {
      const path = ['services', s.name, 'uses', i];
      if (u === s.name) out.push({ path, message: `"${u}" is the service itself; a service cannot use itself` });
      else if (!names.includes(u)) out.push({ path, message: `uses unknown service "${u}"; services are: ${[...names].sort().join(', ')}` });
    });
  }
  return out;
}

/** Routes go to app services; no two routes share listen port + host + path; explicit ports are unique. */
export function checkPorts(
  services: readonly CheckedService[],
  kinds: ReadonlyMap<string, ServiceKindName | null>,
  routes: readonly PlacedRoute[],
): Finding[] {
  const out: Finding[] = [];
  const known = [...kinds.keys()].sort().join(', ');
  const claimed = new Map<number, string>();
  routes.forEach(({ route, path }) => {
    const kind = kinds.get(route.to);
    if (!kinds.has(route.to)) out.push({ path: [...path, 'to'], message: `routes to unknown service "${route.to}"; services are: ${known}` });
    else if (kind && kind !== 'app') out.push({ path: [...path, 'to'], message: `routes to ${kind} service "${route.to}"; routes can only go to app services (with run:)` });
    const target = services.find((s) => s.name === route.to);
    if (target?.kind === 'app' && target.spec.listens === false) {
      out.push({ path: ['services', target.name, 'listens'], message: `is false, but the route at ${pathText(path)} sends traffic to ${target.name}; remove listens: false or the route` });
    }
  });
  for (let i = 0; i < routes.length; i++) {
    const a = routes[i];
    const earlier = routes.slice(0, i).find((b) => same(a.route, b.route));
    if (earlier) {
      out.push({
        path: [...a.path, 'listen'],
        message: `port ${a.route.listen} is already routed with the same host and path at ${pathText(earlier.path)}; change listen, host or path`,
      });
    }
    if (!claimed.has(a.route.listen)) claimed.set(a.route.listen, `route ${pathText(a.path)}`);
  }
  for (const s of services) {
    if (s.kind !== 'postgres' || s.spec.postgres?.port === undefined) continue;
    const port = s.spec.postgres.port;
    const owner = claimed.get(port);
    if (owner) out.push({ path: ['services', s.name, 'postgres', 'port'], message: `port ${port} is already taken by ${owner}; pick another port` });
    else claimed.set(port, `service ${s.name}`);
  }
  return out;
}

function same(a: Route, b: Route): boolean {
  return a.listen === b.listen && (a.host ?? '') === (b.host ?? '') && (a.path ?? '/') === (b.path ?? '/');
}

function pathText(path: PathKey[]): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('').replace(/^\./, '');
}

/** A postgres `password_secret` must name a declared secret. */
export function checkPasswordSecrets(services: readonly CheckedService[], secrets: ReadonlySet<string>): Finding[] {
  const declared = [...secrets].sort().join(', ') || 'none';
  const out: Finding[] = [];
  for (const s of services) {
    const secret = s.kind === 'postgres' ? s.spec.postgres?.password_secret : undefined;
    if (secret !== undefined && !secrets.has(secret)) {
      out.push({ path: ['services', s.name, 'postgres', 'password_secret'], message: `names secret "${secret}" that is not declared under secrets: (declared: ${declared})` });
    }
  }
  return out;
}

/** Two services may not share one named volume: each volume has one owner. */
export function checkVolumes(services: readonly CheckedService[]): Finding[] {
  const owner = new Map<string, string>();
  const out: Finding[] = [];
  for (const s of [...services].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const v = s.spec.volume;
    if (!v) continue;
    const first = owner.get(v);
    if (first) out.push({ path: ['services', s.name, 'volume'], message: `volume "${v}" already belongs to service ${first}; give each service its own volume` });
    else owner.set(v, s.name);
  }
  return out;
}

/** Directories and files the stack points at must exist (relative to the stack file's directory). */
export function checkFiles(services: readonly CheckedService[], secrets: readonly { name: string; file?: string }[], dir: string): Finding[] {
  const out: Finding[] = [];
  for (const s of services) {
    if (s.kind === 'app' && s.spec.dir !== undefined) {
      const problem = missing(dir, s.spec.dir, 'directory');
      if (problem) out.push({ path: ['services', s.name, 'dir'], message: `app directory ${problem}` });
    }
    if (s.kind === 'postgres' && s.spec.migrations !== undefined) {
      const problem = missing(dir, s.spec.migrations, 'directory');
      if (problem) out.push({ path: ['services', s.name, 'migrations'], message: `migrations directory ${problem}` });
    }
  }
  for (const s of secrets) {
    if (s.file === undefined) continue;
    const problem = missing(dir, s.file, 'file');
    if (problem) out.push({ path: ['secrets', s.name, 'file'], message: `secret file ${problem}` });
  }
  return out;
}

function missing(dir: string, rel: string, want: 'directory' | 'file'): string | null {
  const abs = resolve(dir, rel);
  let st;
  try {
    st = statSync(abs);
  } catch {
    return `${abs} does not exist (paths are relative to the stack file's directory ${dir})`;
  }
  if (want === 'directory' && !st.isDirectory()) return `${abs} is not a directory`;
  if (want === 'file' && !st.isFile()) return `${abs} is not a file`;
  return null;
}
