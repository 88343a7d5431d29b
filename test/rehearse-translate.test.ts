import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Plan, ReleaseConfig } from '../src/plan/types.js';
import { assertRehearsed, planDigest, recordRehearsal, RehearsalRequiredError, restorePlan, translatePlan, translateString, type CopyMap, type CurrentService } from '../src/rehearse/index.js';
import { computePlan } from '../src/cli/planning.js';
import { appFiles, stackDir } from './helpers/cli.js';

const map: CopyMap = { fromStateDir: '/s/.symphony', toStateDir: '/s/.symphony/rehearsals/ab12cd34', ports: { 21000: 33001, 8080: 33002 } };

const pgConfig: ReleaseConfig = {
  stack: 'shop', stackDir: '/s', service: 'db', kind: 'postgres', runtime: 'process', artifact: 'postgres',
  instances: [{
    ordinal: '0',
    command: 'exec postgres -D /s/.symphony/volumes/prod/db/data -p 21000 -c listen_addresses=127.0.0.1 -k /s/.symphony/volumes/prod/db/run',
    cwd: '/s/.symphony/volumes/prod/db', env: { PGDATA: '/s/.symphony/volumes/prod/db/data', NOTE: 'port21000 and 210001 and 21000ms stay' },
    port: 21000, volumePath: '/s/.symphony/volumes/prod/db',
  }],
  health: null,
  deploy: { strategy: 'blue-green', replaceMode: 'in-place', drainMs: 21000, graceMs: 10000, warmMs: 0, steps: [10], pauseMs: 0, maxUnavailable: 0, maxSurge: 1, sticky: null, analysis: null },
  ports: { port: 21000 }, volume: 'db', volumePath: '/s/.symphony/volumes/prod/db', secretDigests: {}, generatedSecrets: ['db.password'],
  spec: { postgres: { version: '15', port: 21000 }, volume: 'db' },
};
const apiConfig = (version: string): ReleaseConfig => ({
  ...pgConfig, service: 'api', kind: 'app', artifact: 'abc', ports: {}, volume: null, volumePath: null, generatedSecrets: [],
  deploy: { ...pgConfig.deploy, replaceMode: 'blue-green' },
  instances: [{ ordinal: '0', command: 'node server.mjs', cwd: '/s/api', env: { V: version, DATABASE_URL: 'postgres://u:${secrets.db.password}@127.0.0.1:21000/u' } }],
  spec: { run: 'node server.mjs' },
});

const current: CurrentService[] = [
  { name: 'db', kind: 'postgres', release: 'db-11111111', config: pgConfig, replicas: 1, prepare: true },
  { name: 'api', kind: 'app', release: 'api-22222222', config: apiConfig('v1'), replicas: 2, prepare: false },
];
const plan: Plan = {
  format: 1, kind: 'apply', stack: 'shop', env: 'prod', stackFile: '/s/symphony.yaml', serial: 7,
  changes: [
    { service: 'db', kind: 'postgres', action: 'none', reasons: [], from: 'db-11111111', to: 'db-11111111' },
    { service: 'api', kind: 'app', action: 'replace', reasons: ['env V changed'], from: 'api-22222222', to: 'api-33333333' },
  ],
  steps: ['release', 'start', 'health', 'switch'].map((verb) => ({ name: `api:${verb}`, service: 'api', verb: verb as 'start', release: 'api-33333333', previous: 'api-22222222' })),
  releases: { 'api-33333333': apiConfig('v2') },
  routes: [{ id: 'prod:8080', listen: 8080, service: 'api' }],
  replicas: { db: 1, api: 2 },
};

describe('translation of a target to its rehearsal copy (pure)', () => {
  it('rewrites the state dir and standalone mapped ports, nothing else', () => {
    expect(translateString('-D /s/.symphony/volumes/x -p 21000 http://127.0.0.1:8080/ /s/.symphony-other 21000ms 210001', map)).toBe(
      '-D /s/.symphony/rehearsals/ab12cd34/volumes/x -p 33001 http://127.0.0.1:33002/ /s/.symphony-other 21000ms 210001',
    );
  });

  it("keeps a pipeline's frozen builds: a copy runs the same files", () => {
    expect(translateString('/s/.symphony/pipeline/builds/abc/server.mjs /s/.symphony/pipeline/logs', map)).toBe('/s/.symphony/pipeline/builds/abc/server.mjs /s/.symphony/rehearsals/ab12cd34/pipeline/logs');
  });

  it("keeps the planner's own release ids under an identity map (the planner's plan of a real stack file)", async () => {
    const dir = stackDir({
      'symphony.yaml': 'name: ids\nservices:\n  db:\n    postgres: { version: "15" }\n    volume: ids-db\n  api:\n    run: node server.mjs\n    dir: ./api\n    env: { DATABASE_URL: "${db.url}" }\nroutes:\n  - { listen: 0, to: api }\n'.replace('listen: 0', `listen: ${40000 + Math.floor(Math.random() * 5000)}`),
      ...appFiles('api'),
    });
    const state = join(dir, '.symphony');
    const { plan: planned } = await computePlan(join(dir, 'symphony.yaml'), undefined, state);
    const ids = Object.keys(planned.releases);
    expect(ids.map((id) => id.replace(/-[0-9a-f]{8}$/, '')).sort()).toEqual(['api', 'db']);
    const identity: CopyMap = { fromStateDir: state, toStateDir: state, ports: {} };
    const current: CurrentService[] = ids.map((id) => ({ name: planned.releases[id].service, kind: planned.releases[id].kind, release: id, config: planned.releases[id], replicas: 1, prepare: false }));
    // Restoring the planner's releases into an identical copy gives each its planner id back…
    const restored = restorePlan(planned, current, identity, 0);
    expect(restored.ids).toEqual(Object.fromEntries(ids.map((id) => [id, id])));
    // …and so does translating the plan itself.
    expect(Object.keys(translatePlan(planned, restored.ids, identity, 0).releases).sort()).toEqual([...ids].sort());
  });

  it('restores every current release in order with the copy ports, paths, replicas and routes', () => {
    const { plan: r, ids } = restorePlan(plan, current, map, 3);
    const db = r.releases[ids['db-11111111']];
    expect(db.ports).toEqual({ port: 33001 });
    expect(db.spec).toEqual({ postgres: { version: '15', port: 33001 }, volume: 'db' });
    expect(db.deploy.drainMs).toBe(21000);
    expect(db.instances[0]).toEqual({
      ordinal: '0',
      command: 'exec postgres -D /s/.symphony/rehearsals/ab12cd34/volumes/prod/db/data -p 33001 -c listen_addresses=127.0.0.1 -k /s/.symphony/rehearsals/ab12cd34/volumes/prod/db/run',
      cwd: '/s/.symphony/rehearsals/ab12cd34/volumes/prod/db', env: { PGDATA: '/s/.symphony/rehearsals/ab12cd34/volumes/prod/db/data', NOTE: 'port21000 and 210001 and 21000ms stay' },
      port: 33001, volumePath: '/s/.symphony/rehearsals/ab12cd34/volumes/prod/db',
    });
    expect(r.releases[ids['api-22222222']].instances[0].env.DATABASE_URL).toBe('postgres://u:${secrets.db.password}@127.0.0.1:33001/u');
    expect(r.steps.map((s) => s.name)).toEqual(['db:volume', 'db:release', 'db:prepare', 'db:start', 'db:health', 'db:switch', 'api:release', 'api:start', 'api:health', 'api:switch']);
    expect(r.replicas).toEqual({ db: 1, api: 2 });
    expect(r.routes).toEqual([{ id: 'prod:33002', listen: 33002, service: 'api' }]);
    expect(r.serial).toBe(3);
  });

  it('translates named stable ports (an etcd service: client-<i>, peer-<i>) in ports and in the command', () => {
    const etcdMap: CopyMap = { ...map, ports: { 21000: 41000, 21001: 41001, 21002: 41002 } };
    const kv: ReleaseConfig = {
      ...pgConfig, service: 'kv', kind: 'etcd', ports: { 'client-0': 21000, 'peer-0': 21001 }, spec: { etcd: { version: '3.4', members: 1 }, volume: 'kv' },
      instances: [{ ordinal: 'm0', command: 'exec etcd --listen-peer-urls=http://127.0.0.1:21001 --initial-cluster=kv-0=http://127.0.0.1:21001', cwd: '/s', env: {}, port: 21000 }],
    };
    const out = translatePlan({ ...plan, releases: { 'kv-44444444': kv } }, {}, etcdMap, 0);
    const cfg = Object.values(out.releases)[0];
    expect(cfg.ports).toEqual({ 'client-0': 41000, 'peer-0': 41001 });
    expect(cfg.instances[0].port).toBe(41000);
    expect(cfg.instances[0].command).toBe('exec etcd --listen-peer-urls=http://127.0.0.1:41001 --initial-cluster=kv-0=http://127.0.0.1:41001');
    expect(cfg.spec).toEqual(kv.spec);
    expect(cfg.deploy.drainMs).toBe(21000);
  });

  it('translates the plan: same steps, copy release ids, previous = the restored release', () => {
    const { ids } = restorePlan(plan, current, map, 0);
    const t = translatePlan(plan, ids, map, 9);
    const newId = Object.keys(t.releases)[0];
    expect(newId).toMatch(/^api-[0-9a-f]{8}$/);
    expect(newId).not.toBe('api-33333333');
    expect(t.steps.map((s) => [s.name, s.release, s.previous])).toEqual(plan.steps.map((s) => [s.name, newId, ids['api-22222222']]));
    expect(t.changes.map((c) => [c.from, c.to])).toEqual([[ids['db-11111111'], ids['db-11111111']], [ids['api-22222222'], newId]]);
    expect(t.serial).toBe(9);
  });
});

describe('plan digest and require_rehearsal', () => {
  it('ignores the state serial, changes with any step or release', () => {
    expect(planDigest({ ...plan, serial: 99 })).toBe(planDigest(plan));
    expect(planDigest({ ...plan, releases: { 'api-33333333': apiConfig('v3') } })).not.toBe(planDigest(plan));
    expect(planDigest({ ...plan, steps: plan.steps.slice(1) })).not.toBe(planDigest(plan));
  });

  it('refuses without a passed rehearsal of the same digest, then allows', () => {
    const dir = mkdtempSync(join(tmpdir(), 'symphony-rehearse-'));
    const file = join(dir, 'symphony.yaml');
    writeFileSync(file, 'name: shop\nservices:\n  api: { run: node server.mjs }\nenvironments:\n  prod: { require_rehearsal: true }\n');
    const p = { ...plan, stackFile: file };
    expect(() => assertRehearsed(dir, p)).toThrow(RehearsalRequiredError);
    recordRehearsal(dir, { id: 'r1', env: 'prod', digest: planDigest(p), passed: false, at: 'now', error: 'x', steps: [] });
    expect(() => assertRehearsed(dir, p)).toThrow(/the last rehearsal \(r1 at now\) failed/);
    recordRehearsal(dir, { id: 'r2', env: 'prod', digest: planDigest({ ...p, steps: [] }), passed: true, at: 'now', error: null, steps: [] });
    expect(() => assertRehearsed(dir, p)).toThrow(/passed for another plan/);
    recordRehearsal(dir, { id: 'r3', env: 'prod', digest: planDigest(p), passed: true, at: 'now', error: null, steps: [] });
    expect(() => assertRehearsed(dir, p)).not.toThrow();
    expect(() => assertRehearsed(dir, { ...p, env: 'default' })).not.toThrow();
  });
});
