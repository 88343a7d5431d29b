import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { translateString } from '../rehearse/translate.js';
import { isOutside, rootOfVolume, sharedRootOf, volumePathUnder } from './placement.js';
import { blockingDir } from './reach.js';

const nobody = { name: 'nobody', uid: 65534, gid: 65534 };
const base = mkdtempSync(join(tmpdir(), 'symphony-reach-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('volume placement', () => {
  it('gives each state dir its own root under /var/lib/symphony, named by a hash of the state dir', () => {
    delete process.env.SYMPHONY_SHARED_ROOT;
    expect(sharedRootOf('/root/shop/.symphony')).toMatch(/^\/var\/lib\/symphony\/[0-9a-f]{16}$/);
    expect(sharedRootOf('/root/shop/.symphony')).toBe(sharedRootOf('/root/shop/.symphony'));
    expect(sharedRootOf('/root/shop/.symphony')).not.toBe(sharedRootOf('/root/shop2/.symphony'));
    const path = volumePathUnder(sharedRootOf('/s'), 'default', 'db-data');
    expect(rootOfVolume(path)).toBe(sharedRootOf('/s'));
    expect([isOutside('/s', path), isOutside('/s', volumePathUnder('/s', 'default', 'db-data'))]).toEqual([true, false]);
  });

  it('finds the first directory an account cannot traverse, by owner, group and other bits', () => {
    const closed = join(base, 'closed');
    mkdirSync(join(closed, 'inner'), { recursive: true });
    chmodSync(base, 0o711);
    chmodSync(closed, 0o700);
    expect(blockingDir(nobody, join(closed, 'inner', 'not-yet', '.symphony'))).toBe(closed);
    chmodSync(closed, 0o701);
    expect(blockingDir(nobody, join(closed, 'inner'))).toBeNull();
    chmodSync(closed, 0o710);
    expect(blockingDir({ ...nobody, gid: 0 }, join(closed, 'inner'))).toBeNull();
    expect(blockingDir(nobody, join(closed, 'inner'))).toBe(closed);
    expect(blockingDir({ ...nobody, uid: 0 }, join(closed, 'inner'))).toBeNull();
  });

  it('moves a rehearsal copy from the target shared root to its own', () => {
    const map = { fromStateDir: '/s/.symphony', toStateDir: '/s/.symphony/rehearsals/ab', ports: {}, sharedRoots: { from: '/var/lib/symphony/aaaa', to: '/var/lib/symphony/bbbb' } };
    expect(translateString('-D /var/lib/symphony/aaaa/volumes/default/db/data -k /s/.symphony/run', map)).toBe('-D /var/lib/symphony/bbbb/volumes/default/db/data -k /s/.symphony/rehearsals/ab/run');
    expect(translateString('/var/lib/symphony/aaaa2/x', map)).toBe('/var/lib/symphony/aaaa2/x');
  });
});
