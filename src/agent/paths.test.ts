import { describe, expect, it } from 'vitest';
import { AGENT_NODE_FLAGS, inheritableExecArgv } from './paths.js';

describe('flags of the daemons the agent starts', () => {
  it('keep the loader flags and drop the agent-only V8 flags', () => {
    expect(inheritableExecArgv(['--import', 'tsx', ...AGENT_NODE_FLAGS, '--enable-source-maps'])).toEqual(['--import', 'tsx', '--enable-source-maps']);
    expect(inheritableExecArgv([...AGENT_NODE_FLAGS])).toEqual([]);
  });
});
