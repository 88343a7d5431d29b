import { describe, expect, it } from 'vitest';
import { decideQueue } from './queue.js';

describe('decideQueue', () => {
  it.each([
    ['nothing to do', [], { start: null, supersede: [] }],
    ['a lone queued run starts', [{ id: 'run-1', status: 'queued' }], { start: 'run-1', supersede: [] }],
    ['a run behind a running one waits', [{ id: 'run-1', status: 'running' }, { id: 'run-2', status: 'queued' }], { start: null, supersede: [] }],
    ['a waiting run is active too', [{ id: 'run-1', status: 'waiting' }, { id: 'run-2', status: 'queued' }], { start: null, supersede: [] }],
    [
      'a newer queued commit supersedes an older queued one',
      [{ id: 'run-1', status: 'running' }, { id: 'run-2', status: 'queued' }, { id: 'run-3', status: 'queued' }],
      { start: null, supersede: [{ id: 'run-2', by: 'run-3' }] },
    ],
    [
      'when the active run ends, only the newest queued starts',
      [{ id: 'run-2', status: 'queued' }, { id: 'run-3', status: 'queued' }, { id: 'run-4', status: 'queued' }],
      { start: 'run-4', supersede: [{ id: 'run-2', by: 'run-4' }, { id: 'run-3', by: 'run-4' }] },
    ],
  ] as const)('%s', (_n, runs, expected) => {
    expect(decideQueue(runs.map((r) => ({ ...r })))).toEqual(expected);
  });
});
