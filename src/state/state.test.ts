import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LockHeldError } from '../errors.js';
import { Journal } from './journal.js';
import { LeaseStore } from './lease.js';
import { StateStore } from './store.js';

const stores: StateStore[] = [];
const open = (): StateStore => {
  const s = new StateStore(mkdtempSync(join(tmpdir(), 'symphony-state-')));
  stores.push(s);
  return s;
};
afterEach(() => stores.splice(0).forEach((s) => s.close()));

describe('LeaseStore', () => {
  it('refuses a second holder with its name, id and expiry', () => {
    const leases = new LeaseStore(open());
    const first = leases.acquire('prod', 'alice@host1');
    let err: unknown;
    try {
      leases.acquire('prod', 'bob@host2');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LockHeldError);
    const held = err as LockHeldError;
    expect(held.lease).toMatchObject({ id: first.id, holder: 'alice@host1', expiresAt: first.expiresAt });
    expect(held.message).toContain('alice@host1');
    expect(held.hint).toContain(`symphony unlock ${first.id}`);
  });

  it('lets another holder in once the lease expired, and not before', async () => {
    const leases = new LeaseStore(open(), 50);
    leases.acquire('prod', 'dead-holder');
    expect(() => leases.acquire('prod', 'next')).toThrow(LockHeldError);
    await new Promise((r) => setTimeout(r, 80));
    expect(leases.acquire('prod', 'next').holder).toBe('next');
  });

  it('keeps environments apart, heartbeats only its own lease, and unlocks by id', () => {
    const leases = new LeaseStore(open());
    const a = leases.acquire('prod', 'a');
    const b = leases.acquire('staging', 'b');
    expect(leases.heartbeat('prod', a.id)).toBe(true);
    expect(leases.heartbeat('prod', b.id)).toBe(false);
    expect(leases.forceRelease(a.id).holder).toBe('a');
    expect(leases.current('prod')).toBeNull();
    expect(leases.current('staging')?.id).toBe(b.id);
    expect(() => leases.forceRelease('lease-nope')).toThrow(/no lock with id lease-nope/);
  });
});

describe('Journal', () => {
  it('records steps before and after they run, and lists unfinished operations', () => {
    const store = open();
    const journal = new Journal(store);
    const op = journal.create('prod', 'apply', { steps: [] }, 'me', ['a:start', 'a:health']);
    expect(journal.steps(op.id).map((s) => [s.name, s.status])).toEqual([
      ['a:start', 'pending'],
      ['a:health', 'pending'],
    ]);
    journal.stepStarted(op.id, 0);
    expect(journal.unfinished().map((o) => o.id)).toEqual([op.id]);
    journal.stepEnded(op.id, 0, 'done', { pid: 1 });
    journal.stepStarted(op.id, 1);
    journal.stepEnded(op.id, 1, 'failed', undefined, 'boom');
    journal.finish(op.id, 'undone', 'boom');
    expect(journal.steps(op.id).map((s) => [s.status, s.detail, s.error])).toEqual([
      ['done', { pid: 1 }, null],
      ['failed', null, 'boom'],
    ]);
    expect(journal.unfinished()).toEqual([]);
    expect(journal.get(op.id)?.status).toBe('undone');
  });
});

describe('StateStore', () => {
  it('keeps releases immutable and bumps the serial', () => {
    const store = open();
    store.putRelease({ id: 'api-1', env: 'prod', service: 'api', configHash: 'h', config: { a: 1 }, status: 'pending' });
    store.putRelease({ id: 'api-1', env: 'prod', service: 'api', configHash: 'h2', config: { a: 2 }, status: 'live' });
    expect(store.release('api-1')).toMatchObject({ configHash: 'h', config: { a: 1 }, status: 'pending' });
    const s0 = store.serial();
    expect(store.bumpSerial()).toBe(s0 + 1);
  });

  it('keeps the ports of a forgotten service until it is recorded again or the volumes go', () => {
    const store = open();
    store.keepPorts('prod', 'kv', { 'client-0': 21000, 'peer-0': 21001 });
    store.keepPorts('prod', 'db', { port: 21002 });
    store.keepPorts('staging', 'kv', { 'client-0': 22000 });
    expect(store.keptPorts('prod')).toEqual({ kv: { 'client-0': 21000, 'peer-0': 21001 }, db: { port: 21002 } });
    store.upsertService({ env: 'prod', name: 'kv', kind: 'etcd', currentRelease: null, previousRelease: null, ports: { 'client-0': 21000, 'peer-0': 21001 } });
    expect(store.keptPorts('prod')).toEqual({ db: { port: 21002 } });
    store.dropKeptPorts('prod');
    expect(store.keptPorts('prod')).toEqual({});
    expect(store.keptPorts('staging')).toEqual({ kv: { 'client-0': 22000 } });
  });
});
