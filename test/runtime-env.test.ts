import { describe, expect, it } from 'vitest';
import { baseEnv, instanceEnv, launchCommand } from '../src/runtime/process/index.js';
import { parseStat, readStat } from '../src/runtime/process/proc.js';
import type { InstanceSpec } from '../src/runtime/types.js';

const spec: InstanceSpec = {
  id: 'api-1a2b-0',
  service: 'api',
  release: '1a2b',
  command: 'node server.js',
  cwd: '/srv/api',
  env: { DATABASE_URL: 'postgres://db/shop', PATH: '/opt/app/bin:/usr/bin', SYMPHONY_INSTANCE: 'forged', PORT: '1' },
  port: 41000,
  logDir: '/var/lib/symphony/logs',
};

const agentEnv = { PATH: '/usr/bin:/bin', HOME: '/home/agent', LANG: 'C.UTF-8', AWS_SECRET_ACCESS_KEY: 'agent-secret', NODE_OPTIONS: '--inspect' };

describe('instance environment', () => {
  it('keeps only PATH, HOME, LANG and TZ of the agent', () => {
    expect(baseEnv(agentEnv)).toEqual({ PATH: '/usr/bin:/bin', HOME: '/home/agent', LANG: 'C.UTF-8' });
    expect(baseEnv({ TZ: 'Europe/Paris' })).toEqual({ TZ: 'Europe/Paris', PATH: '/usr/local/bin:/usr/bin:/bin' });
  });

  it('layers base, spec env, PORT, then stamps that a spec cannot forge', () => {
    expect(instanceEnv('/var/lib/symphony', spec, agentEnv)).toEqual({
      PATH: '/opt/app/bin:/usr/bin',
      HOME: '/home/agent',
      LANG: 'C.UTF-8',
      DATABASE_URL: 'postgres://db/shop',
      PORT: '41000',
      SYMPHONY_SCOPE: '/var/lib/symphony',
      SYMPHONY_INSTANCE: 'api-1a2b-0',
      SYMPHONY_SERVICE: 'api',
      SYMPHONY_RELEASE: '1a2b',
    });
  });

  it('leaves a spec PORT alone when the instance has no assigned port', () => {
    expect(instanceEnv('/s', { ...spec, port: undefined }, agentEnv).PORT).toBe('1');
  });
});

describe('launchCommand', () => {
  it.each([
    ['node server.js', 'exec node server.js'],
    ['  ./bin/api --port "$PORT" 2>&1 ', 'exec ./bin/api --port "$PORT" 2>&1'],
    ['exec node server.js', 'exec node server.js'],
    ['cd api && node server.js', 'cd api && node server.js'],
    ['npm run migrate; node server.js', 'npm run migrate; node server.js'],
    ['node server.js | tee out', 'node server.js | tee out'],
    ['NODE_ENV=production node server.js', 'NODE_ENV=production node server.js'],
    ['(node server.js)', '(node server.js)'],
    ['node a.js & node b.js', 'node a.js & node b.js'],
    ['cd api', 'cd api'],
    ['', ''],
  ])('%j runs as %j', (command, line) => {
    expect(launchCommand(command)).toBe(line);
  });
});

describe('/proc/<pid>/stat parsing', () => {
  it('counts fields after the last parenthesis, whatever the command name holds', () => {
    const rest = 'S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10';
    expect(parseStat(4242, `4242 (we(ird) name) ${rest}`)).toEqual({ pid: 4242, state: 'S', ppid: 1, pgrp: 4242, session: 4242, startTime: 987654 });
    expect(parseStat(1, 'garbage')).toBeNull();
  });

  it('reads this very process', () => {
    const me = readStat(process.pid);
    expect(me).toMatchObject({ pid: process.pid, ppid: process.ppid });
    expect(me?.startTime).toBeGreaterThan(0);
    expect(readStat(2 ** 22 + 1)).toBeNull();
  });
});
