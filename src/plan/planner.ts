import { getKind } from '../kinds/registry.js';
import type { LoadedStack, ServiceNode } from '../spec/index.js';
import type { ReleaseRecord } from '../state/types.js';
import { parseDuration } from '../util/duration.js';
import { allocatePorts } from './ports.js';
import { buildRelease, kindContext, releaseReasons } from './release.js';
import type { Attributes } from './resolve.js';
import type { Change, MigrationVersions, Plan, PlanRoute, PlanState, PlanStep, ReleaseConfig } from './types.js';
import { versionSchemaName } from '../migrate/names.js';
import { versionRoleName } from '../pooler/config.js';
import { checkVersionChange } from '../kinds/postgres/settings.js';
import { isOutside, type VolumePlacement } from '../volumes/placement.js';

export interface PlanInput {
  stack: LoadedStack;
  state: PlanState;
  stateDir: string;
  /** Digest of each app's files, by service (computed by the caller). */
  artifacts: Record<string, string>;
  /** HMAC digest of every secret value the apply will have, by name. */
  secretDigests: Record<string, string>;
  /** Ports in use by other environments of this state dir. */
  usedPorts?: number[];
  /** Where new stable ports start (default 21000; the CLI uses `stablePortBase`). */
  portBase?: number;
  /** Limit the plan to these services and what they need. */
  target?: string[];
  /** Migration versions found in each postgres service's `migrations:` dir. */
  migrations?: MigrationVersions;
  /** `version_schema` of the migration files that set one, by service and version. */
  migrationSchemas?: Record<string, Record<string, string>>;
  /** Services whose new volumes go under a Symphony-owned root (their server account cannot reach the state dir). */
  volumePlacements?: Record<string, VolumePlacement>;
}

/** Schema prefix of version schemas (the engine's default: the base schema). */
export const SCHEMA_PREFIX = 'public';

/**
 * The migration a postgres service should run next, and the schema version
 * its dependants bind to. Pure.
 */
export function schemaBinding(versions: string[] | undefined, done: string | null | undefined): { next: string | null; bound: string | null; pending: number } {
  if (!versions || versions.length === 0) return { next: null, bound: null, pending: 0 };
  const from = done ? versions.indexOf(done) + 1 : 0;
  const pending = versions.slice(from);
  const next = pending[0] ?? null;
  return { next, bound: next ?? done ?? null, pending: pending.length };
}

/**
 * The replica count of an autoscaled app: a deploy keeps what the
 * autoscaler (or `symphony scale`) made of it, within the file's min/max;
 * `replicas:` is only the starting count. Null without `autoscale:`.
 */
export function scaledCount(node: ServiceNode, current: string | null, state: PlanState): { count: number; note?: string } | null {
  const spec = node.spec as { replicas?: number; autoscale?: { min: number; max: number } };
  if (!spec.autoscale) return null;
  const { min, max } = spec.autoscale;
  const file = spec.replicas ?? min;
  const running = current ? state.instances.filter((i) => i.release === current && i.status !== 'stopped' && i.status !== 'failed').length : 0;
  if (running === 0) return { count: Math.min(max, Math.max(min, file)) };
  const count = Math.min(max, Math.max(min, running));
  return { count, note: count !== file ? `keeps ${count} replicas from autoscaling (replicas: ${file} in the file is the starting count)` : undefined };
}

/**
 * A postgres service's attributes for dependants bound to one schema version: `url` and
 * `user` name the version's login role (`<user>__<schema>`), `schema` the version. Pure.
 */
export function bindToVersion(attrs: Record<string, string>, schema: string): Record<string, string> {
  const role = versionRoleName(attrs.user, schema);
  const prefix = `postgres://${encodeURIComponent(attrs.user)}:`;
  const url = attrs.url.startsWith(prefix) ? `postgres://${encodeURIComponent(role)}:${attrs.url.slice(prefix.length)}` : attrs.url;
  return { ...attrs, url, user: role, schema };
}

/** One line for the plan about the instance that holds the others' clients (a postgres service's pooler). Pure. */
export function poolerNote(holder: { ordinal: string; port?: number }, server: { port?: number } | undefined): string {
  return `${holder.ordinal} (PgBouncer, transaction pooling) on 127.0.0.1:${holder.port} in front of the server on :${server?.port}: dependants connect to it, and it holds their connections while the server restarts`;
}

/** Services named in `target` plus everything they depend on. */
export function withDependencies(services: ServiceNode[], target: string[]): Set<string> {
  const byName = new Map(services.map((s) => [s.name, s]));
  const out = new Set<string>();
  const visit = (name: string): void => {
    if (out.has(name)) return;
    out.add(name);
    for (const d of byName.get(name)?.deps ?? []) visit(d);
  };
  target.forEach(visit);
  return out;
}

/** The stack's routes as the plan carries them (ids are `<env>:<listen>[:host][:path]`). */
export function routesOf(stack: LoadedStack): PlanRoute[] {
  return stack.routes.map((r) => ({
    id: [stack.env, String(r.listen), r.host ?? '', (r.path ?? '').replace(/[^\w.-]/g, '_')].filter(Boolean).join(':'),
    listen: r.listen,
    host: r.host,
    path: r.path,
    timeoutMs: r.timeout === undefined ? undefined : parseDuration(r.timeout, 0),
    service: r.to,
  }));
}

/**
 * The pure planner: (stack, recorded state, observed state) -> Plan. Same
 * inputs, same plan; no I/O. Steps come in dependency order.
 */
export function makePlan(input: PlanInput): Plan {
  const { stack, state } = input;
  const selected = input.target?.length ? withDependencies(stack.services, input.target) : null;
  const recorded = new Map(state.services.map((s) => [s.name, s]));
  const releases = new Map<string, ReleaseRecord>(state.releases.map((r) => [r.id, r]));
  const alive = new Set(state.alive);
  const used = new Set<number>([...(input.usedPorts ?? []), ...stack.routes.map((r) => r.listen)]);
  for (const s of state.services) Object.values(s.ports).forEach((p) => used.add(p));
  for (const ports of Object.values(state.keptPorts ?? {})) Object.values(ports).forEach((p) => used.add(p));

  const routes = routesOf(stack);
  const where = { recorded: Object.fromEntries(state.volumes.map((v) => [v.name, v.path])), placements: input.volumePlacements ?? {} };
  const attrs: Attributes = {};
  const changes: Change[] = [];
  const steps: PlanStep[] = [];
  const newReleases: Record<string, ReleaseConfig> = {};
  const replicas: Record<string, number> = {};
  const finalSteps: PlanStep[] = [];
  const migrationNotes: Record<string, string> = {};
  let afterService: Array<() => void> = [];

  for (const node of stack.services) {
    afterService.forEach((f) => f());
    afterService = [];
    const route = routes.find((r) => r.service === node.name);
    const rec = recorded.get(node.name);
    const liveRelease = rec?.currentRelease ? releases.get(rec.currentRelease) : undefined;
    if (node.kind === 'postgres' && liveRelease) {
      const before = ((liveRelease.config as ReleaseConfig).spec as { postgres?: { version?: string } }).postgres?.version;
      const after = (node.spec as { postgres?: { version?: string } }).postgres?.version;
      if (before && after) checkVersionChange(before, after);
    }
    const kind = getKind(node.kind);
    const base = kindContext(node, stack, input.stateDir, {}, where);
    const explicit = (node.spec as { postgres?: { port?: number } }).postgres?.port;
    const ports = allocatePorts(kind.stablePorts(base), rec?.ports ?? state.keptPorts?.[node.name] ?? {}, explicit ? { port: explicit } : {}, used, input.portBase);
    attrs[node.name] = route
      ? { host: '127.0.0.1', port: String(route.listen), url: `http://127.0.0.1:${route.listen}`, ...kind.attributes({ ...base, ports }) }
      : kind.attributes({ ...base, ports });
    const binding = node.kind === 'postgres' ? schemaBinding(input.migrations?.[node.name], rec?.schemaVersion) : null;
    if (binding?.bound) {
      // Dependants connect to the schema version they were built for (expand/contract), as
      // its login role: the pooler does not pass `options`, the role's search_path does it.
      const schema = versionSchemaName(SCHEMA_PREFIX, input.migrationSchemas?.[node.name]?.[binding.bound] ?? binding.bound);
      attrs[node.name] = bindToVersion(attrs[node.name], schema);
    }
    if (selected && !selected.has(node.name)) continue;
    if (binding?.next) {
      const dbRelease = (): string => steps.filter((x) => x.service === node.name).at(-1)?.release ?? rec?.currentRelease ?? '';
      afterService.push(() => {
        steps.push({ name: `${node.name}:migrate-start`, service: node.name, verb: 'migrate-start', release: dbRelease(), previous: null, version: binding.next! });
        finalSteps.push({ name: `${node.name}:migrate-complete`, service: node.name, verb: 'migrate-complete', release: dbRelease(), previous: null, version: binding.next! });
      });
      migrationNotes[node.name] = `migration ${binding.next} (expand now, contract after the old release is gone)${binding.pending > 1 ? `; ${binding.pending - 1} more pending: apply again` : ''}`;
    }

    const { id, config, health } = buildRelease(node, { stack, stateDir: input.stateDir, ports, attrs, artifact: input.artifacts[node.name] ?? kind.name, secretDigests: input.secretDigests, volumes: where });
    const volume = config.volumePath && isOutside(input.stateDir, config.volumePath)
      ? `${config.volume} at ${config.volumePath} (outside the state dir: ${where.placements[node.name]?.reason ?? 'recorded there'})`
      : undefined;
    const scaled = node.kind === 'app' ? scaledCount(node, rec?.currentRelease ?? null, state) : null;
    const holder = config.instances.find((d) => d.holds);
    const pooler = holder ? poolerNote(holder, config.instances.find((d) => !d.holds)) : undefined;
    const count = node.kind === 'app' ? (scaled?.count ?? (node.spec as { replicas?: number }).replicas ?? 1) : config.instances.length;
    replicas[node.name] = count;
    const step = (verb: PlanStep['verb'], previous: string | null = null): PlanStep => ({ name: `${node.name}:${verb}`, service: node.name, verb, release: id, previous });
    const current = rec?.currentRelease ?? null;

    if (!current) {
      newReleases[id] = config;
      changes.push({ service: node.name, kind: node.kind, action: 'create', reasons: ['new service'], from: null, to: id, health, ...(volume ? { volume } : {}), ...(pooler ? { pooler } : {}) });
      if (config.volume) steps.push(step('volume'));
      steps.push(step('release'));
      if (kind.prepare) steps.push(step('prepare'));
      steps.push(step('start'), step('health'), step('switch'));
      continue;
    }
    if (current !== id) {
      newReleases[id] = config;
      const prev = releases.get(current);
      const reasons = prev ? releaseReasons(prev.config as ReleaseConfig, config) : ['recorded release is missing'];
      if (scaled?.note) reasons.push(scaled.note);
      changes.push({ service: node.name, kind: node.kind, action: 'replace', reasons, from: current, to: id, health, ...(volume ? { volume } : {}), ...(pooler ? { pooler } : {}) });
      if (config.volume && config.volume !== (prev?.config as ReleaseConfig | undefined)?.volume) steps.push(step('volume'));
      steps.push(step('release', current));
      if (kind.prepare) steps.push(step('prepare', current));
      if (config.deploy.replaceMode === 'in-place' || config.deploy.strategy === 'recreate') {
        steps.push(step('replace-in-place', current), step('health', current), step('switch', current));
      } else if (config.deploy.replaceMode === 'cluster-rolling') {
        steps.push(step('roll', current), step('switch', current));
      } else if (config.deploy.strategy === 'canary') {
        steps.push(step('start', current), step('health', current), step('canary', current), step('switch', current), step('drain', current), step('stop-old', current));
      } else if (config.deploy.strategy === 'rolling') {
        steps.push(step('rolling', current), step('switch', current), step('drain', current), step('stop-old', current));
      } else {
        steps.push(step('start', current), step('health', current), step('switch', current), step('drain', current), step('stop-old', current));
      }
      continue;
    }
    const live = state.instances.filter((i) => i.service === node.name && i.release === current && i.status !== 'stopped' && i.status !== 'failed');
    const running = live.filter((i) => alive.has(i.id));
    const reasons: string[] = [];
    if (live.length !== count) reasons.push(`replicas ${live.length} -> ${count}`);
    if (running.length < live.length) reasons.push(`${live.length - running.length} of ${live.length} instances not running`);
    if (reasons.length === 0) {
      changes.push({ service: node.name, kind: node.kind, action: 'none', reasons: [], from: current, to: current });
      continue;
    }
    changes.push({ service: node.name, kind: node.kind, action: 'update', reasons, from: current, to: current });
    steps.push({ ...step('scale', current), release: current, replicas: count, replicasBefore: live.length }, { ...step('health', current), release: current });
  }

  afterService.forEach((f) => f());
  steps.push(...finalSteps);
  for (const [service, note] of Object.entries(migrationNotes)) {
    const c = changes.find((x) => x.service === service);
    if (c && c.action === 'none') Object.assign(c, { action: 'update', reasons: [note] });
    else if (c) c.reasons.push(note);
  }

  if (!selected) {
    const wanted = new Set(stack.services.map((s) => s.name));
    for (const rec of [...state.services].reverse()) {
      if (wanted.has(rec.name)) continue;
      changes.push({ service: rec.name, kind: rec.kind, action: 'destroy', reasons: ['removed from the stack file (volumes kept)'], from: rec.currentRelease, to: null });
      steps.unshift(
        { name: `${rec.name}:stop`, service: rec.name, verb: 'stop', release: null, previous: rec.currentRelease },
        { name: `${rec.name}:forget`, service: rec.name, verb: 'forget', release: null, previous: rec.currentRelease },
      );
    }
  }

  return {
    format: 1,
    kind: 'apply',
    stack: stack.name,
    env: stack.env,
    stackFile: stack.file,
    serial: state.serial,
    changes,
    steps,
    releases: newReleases,
    routes,
    replicas,
  };
}
