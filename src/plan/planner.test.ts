import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { registerBuiltinKinds } from '../kinds/builtin.js';
import { parseStackText } from '../spec/index.js';
import type { InstanceRecord } from '../state/types.js';
import { makePlan, type PlanInput } from './planner.js';
import { stablePortBase } from './ports.js';
import type { Plan, PlanState } from './types.js';

registerBuiltinKinds();
const dir = mkdtempSync(join(tmpdir(), 'symphony-plan-'));
for (const d of ['api', 'worker']) mkdirSync(join(dir, d));

const STACK = `name: shop
services:
  db:
    postgres: { version: "15" }
    volume: db-data
  api:
    run: node server.js
    dir: ./api
    replicas: 2
    env: { DATABASE_URL: "\${db.url}" }
  worker:
    run: node worker.js
    dir: ./worker
    uses: [api]
routes:
  - { listen: 8080, to: api }
`;

const EMPTY: PlanState = { serial: 0, services: [], releases: [], instances: [], volumes: [], alive: [] };
const input = (text: string, state: PlanState, extra: Partial<PlanInput> = {}): PlanInput => ({
  stack: parseStackText(text, join(dir, 'symphony.yaml'), { dir }),
  state,
  stateDir: '/state',
  artifacts: { api: 'a1', worker: 'w1' },
  secretDigests: { 'db.password': 'd1' },
  ...extra,
});
const steps = (p: Plan): string[] => p.steps.map((s) => s.name);
const actions = (p: Plan): string[][] => p.changes.map((c) => [c.service, c.action]);

/** The state an apply of `plan` leaves behind: every new release live, its instances running. */
function applied(plan: Plan, prev: PlanState = EMPTY): PlanState {
  const services = [...prev.services.filter((s) => !plan.changes.some((c) => c.service === s.name && c.action !== 'none'))];
  const releases = [...prev.releases];
  const instances: InstanceRecord[] = prev.instances.filter((i) => !plan.changes.some((c) => c.service === i.service && c.action === 'replace'));
  for (const [id, cfg] of Object.entries(plan.releases)) {
    services.push({ env: 'default', name: cfg.service, kind: cfg.kind, currentRelease: id, previousRelease: null, ports: cfg.ports, updatedAt: '' });
    releases.push({ id, env: 'default', service: cfg.service, configHash: id, config: cfg, status: 'live', createdAt: '', warmUntil: null });
    const n = plan.replicas[cfg.service];
    for (let i = 0; i < n; i++) {
      const ordinal = cfg.kind === 'app' ? String(i) : cfg.instances[i].ordinal;
      instances.push({ id: `${id}-${ordinal}`, env: 'default', service: cfg.service, release: id, ordinal, pid: 1, startTime: 1, port: 40000 + i, status: 'running', restarts: 0, lastExit: null, health: 'healthy', createdAt: '', updatedAt: '' });
    }
  }
  return { serial: prev.serial + 1, services, releases, instances, volumes: [], alive: instances.map((i) => i.id) };
}

describe('makePlan', () => {
  const first = makePlan(input(STACK, EMPTY));

  it('creates every service in dependency order', () => {
    expect(actions(first)).toEqual([
      ['db', 'create'],
      ['api', 'create'],
      ['worker', 'create'],
    ]);
    expect(steps(first)).toEqual([
      'db:volume', 'db:release', 'db:prepare', 'db:start', 'db:health', 'db:switch',
      'api:release', 'api:start', 'api:health', 'api:switch',
      'worker:release', 'worker:start', 'worker:health', 'worker:switch',
    ]);
    expect(first.replicas).toEqual({ db: 2, api: 2, worker: 1 });
    expect(first.routes).toEqual([{ id: 'default:8080', listen: 8080, host: undefined, path: undefined, timeoutMs: undefined, service: 'api' }]);
  });

  it('judges each new release by a health rule that fits it, and says which', () => {
    expect(first.changes.map((c) => [c.service, c.health])).toEqual([
      ['db', 'the server accepts a login on its port and is not in recovery (postgres kind)'],
      ['api', 'tcp on $PORT every 1000ms (default: a route targets api)'],
      ['worker', 'process stays up 1000ms, no probe (nothing routes to it and it declares no probe)'],
    ]);
    const rel = (p: Plan, svc: string) => Object.values(p.releases).find((r) => r.service === svc)!;
    expect(rel(first, 'worker').health).toMatchObject({ settleMs: 1000 });
    expect(rel(first, 'worker').health).not.toHaveProperty('tcp');
    const listens = makePlan(input(STACK.replace('uses: [api]', 'uses: [api]\n    listens: true'), EMPTY));
    expect(rel(listens, 'worker').health).toMatchObject({ tcp: true });
    expect(listens.changes[2].health).toBe('tcp on $PORT every 1000ms (default: listens: true)');
    const probe = makePlan(input(STACK.replace('uses: [api]', 'uses: [api]\n    health: { exec: "true", settle: 5s }'), EMPTY));
    expect(probe.changes[2].health).toBe('exec "true" every 1000ms (services.worker.health)');
    const off = makePlan(input(STACK.replace('replicas: 2', 'replicas: 2\n    health: { tcp: false, settle: 2s }'), EMPTY));
    expect(off.changes[1].health).toBe('process stays up 2000ms, no probe (services.api.health.tcp is false)');
  });

  it('places a volume under its placement root and says why; a recorded volume stays where it is', () => {
    const placed = makePlan(input(STACK, EMPTY, { volumePlacements: { db: { root: '/var/lib/symphony/abc', reason: 'the postgres account cannot traverse /root' } } }));
    const db = Object.values(placed.releases).find((r) => r.service === 'db')!;
    expect(db.volumePath).toBe('/var/lib/symphony/abc/volumes/default/db-data');
    expect(db.instances[0].env.PGDATA).toBe('/var/lib/symphony/abc/volumes/default/db-data/data');
    expect(placed.changes[0].volume).toBe('db-data at /var/lib/symphony/abc/volumes/default/db-data (outside the state dir: the postgres account cannot traverse /root)');
    expect(first.changes[0].volume).toBeUndefined();
    expect(first.changes[0].pooler).toBe('pooler (PgBouncer, transaction pooling) on 127.0.0.1:21001 in front of the server on :21000: dependants connect to it, and it holds their connections while the server restarts');
    expect(first.changes.find((c) => c.service === 'api')!.pooler).toBeUndefined();
    const recorded = makePlan(input(STACK, { ...EMPTY, volumes: [{ env: 'default', name: 'db-data', path: '/state/volumes/default/db-data', createdAt: '' }] }, { volumePlacements: { db: { root: '/var/lib/symphony/abc', reason: 'x' } } }));
    expect(Object.values(recorded.releases).find((r) => r.service === 'db')!.volumePath).toBe('/state/volumes/default/db-data');
  });

  it('resolves references to stable ports with secrets left as placeholders', () => {
    const api = Object.values(first.releases).find((r) => r.service === 'api')!;
    expect(api.instances[0].env.DATABASE_URL).toBe('postgres://shop:${secrets.db.password}@127.0.0.1:21001/shop');
    // A generated secret (the db password) never changes, so it is not part of any release's identity.
    expect(api.secretDigests).toEqual({});
  });

  it('plans nothing when recorded state matches, and is deterministic', () => {
    const again = makePlan(input(STACK, applied(first)));
    expect(steps(again)).toEqual([]);
    expect(actions(again)).toEqual([
      ['db', 'none'],
      ['api', 'none'],
      ['worker', 'none'],
    ]);
    expect(makePlan(input(STACK, EMPTY))).toEqual(first);
  });

  it('replaces only the service whose files changed, blue-green', () => {
    const p = makePlan(input(STACK, applied(first), { artifacts: { api: 'a2', worker: 'w1' } }));
    expect(actions(p)).toEqual([
      ['db', 'none'],
      ['api', 'replace'],
      ['worker', 'none'],
    ]);
    expect(steps(p)).toEqual(['api:release', 'api:start', 'api:health', 'api:switch', 'api:drain', 'api:stop-old']);
    expect(p.changes[1].reasons).toEqual(['files changed (a1 -> a2)']);
  });

  it('replaces postgres in place and says why, when a setting changes', () => {
    const p = makePlan(input(STACK.replace('version: "15" }', 'version: "15", settings: { work_mem: 8MB } }'), applied(first)));
    expect(actions(p)[0]).toEqual(['db', 'replace']);
    expect(steps(p)).toEqual(['db:release', 'db:prepare', 'db:replace-in-place', 'db:health', 'db:switch']);
  });

  it('refuses a postgres major version change with a clear message', () => {
    expect(() => makePlan(input(STACK.replace('version: "15" }', 'version: "16" }'), applied(first)))).toThrow(/major version change 15 → 16 is not supported/);
  });

  it('scales without a new release when only replicas change', () => {
    const p = makePlan(input(STACK.replace('replicas: 2', 'replicas: 3'), applied(first)));
    expect(actions(p)[1]).toEqual(['api', 'update']);
    expect(p.changes[1].reasons).toEqual(['replicas 2 -> 3']);
    expect(p.steps).toMatchObject([{ name: 'api:scale', replicas: 3 }, { name: 'api:health' }]);
  });

  it('restores instances that are not running', () => {
    const state = applied(first);
    const p = makePlan(input(STACK, { ...state, alive: state.alive.filter((id) => !id.startsWith('worker')) }));
    expect(p.changes[2]).toMatchObject({ service: 'worker', action: 'update', reasons: ['1 of 1 instances not running'] });
  });

  it('destroys services removed from the file, keeping volumes', () => {
    const p = makePlan(input(STACK.replace(/  worker:\n.*\n.*\n.*\n/, ''), applied(first)));
    expect(actions(p).at(-1)).toEqual(['worker', 'destroy']);
    expect(steps(p)).toEqual(['worker:stop', 'worker:forget']);
  });

  it('limits a plan to --target and what it needs', () => {
    const p = makePlan(input(STACK, EMPTY, { target: ['api'] }));
    expect(actions(p)).toEqual([
      ['db', 'create'],
      ['api', 'create'],
    ]);
  });

  it('keeps stable ports clear of ports used elsewhere', () => {
    const p = makePlan(input(STACK, EMPTY, { usedPorts: [21000, 21001] }));
    expect(Object.values(p.releases).find((r) => r.service === 'db')!.ports).toEqual({ port: 21002, pooler: 21003 });
  });

  it('gives a service forgotten with its volume kept the ports it had, and no one else those ports', () => {
    const p = makePlan(input(STACK, { ...EMPTY, keptPorts: { db: { port: 21007 }, gone: { port: 21000 } } }));
    expect(Object.values(p.releases).find((r) => r.service === 'db')!.ports).toEqual({ port: 21007, pooler: 21001 });
    const q = makePlan(input(STACK, { ...EMPTY, keptPorts: { gone: { port: 21000 } } }));
    expect(Object.values(q.releases).find((r) => r.service === 'db')!.ports).toEqual({ port: 21001, pooler: 21002 });
  });

  it('starts new stable ports at the base it is given, one per state dir and environment', () => {
    const base = stablePortBase('/srv/a/.symphony', 'default');
    expect(stablePortBase('/srv/a/.symphony', 'default')).toBe(base);
    expect(base).toBeGreaterThanOrEqual(21000);
    expect(base + 19).toBeLessThan(24000);
    const bases = new Set(['/a', '/b', '/c', '/d', '/e', '/f'].map((d) => stablePortBase(d, 'default')));
    expect(bases.size).toBeGreaterThan(1);
    const p = makePlan(input(STACK, EMPTY, { portBase: base, usedPorts: [base] }));
    expect(Object.values(p.releases).find((r) => r.service === 'db')!.ports).toEqual({ port: base + 1, pooler: base + 2 });
  });
});

describe('makePlan with migrations', () => {
  it("binds dependants to a migration's schema version by its login role, and to version_schema when its file sets one", () => {
    const api = (p: ReturnType<typeof makePlan>) => Object.values(p.releases).find((r) => r.service === 'api')!.instances[0].env.DATABASE_URL;
    const plain = makePlan(input(STACK, EMPTY, { migrations: { db: ['001_a'] } }));
    // Through the pooler, which does not pass startup options: the role's search_path binds the version.
    expect(api(plain)).toBe('postgres://shop__public_001_a:${secrets.db.password}@127.0.0.1:21001/shop');
    const named = makePlan(input(STACK, EMPTY, { migrations: { db: ['001_a'] }, migrationSchemas: { db: { '001_a': 'v_one' } } }));
    expect(api(named)).toBe('postgres://shop__public_v_one:${secrets.db.password}@127.0.0.1:21001/shop');
    expect(JSON.stringify(named.releases)).not.toContain('public_001_a');
    expect(JSON.stringify(plain.releases)).not.toContain('options=');
  });
});
