import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { bindToVersion } from '../plan/planner.js';
import { authLineCommand, pgbouncerIni, poolerLayout, versionRoleName } from './config.js';
import { wantedSchemas } from './roles.js';

const layout = poolerLayout('/srv/vol/db', 21001, 21000, 'shop', 'orders');

describe('pooler config (pure)', () => {
  it('lays its files out under the volume', () => {
    expect(layout).toEqual({
      port: 21001, serverPort: 21000, user: 'shop', database: 'orders',
      dir: '/srv/vol/db/pooler', iniPath: '/srv/vol/db/pooler/pgbouncer.ini', authPath: '/srv/vol/db/pooler/users.txt',
    });
  });

  it('writes a transaction-pooling pgbouncer.ini that maps every database to the server', () => {
    expect(pgbouncerIni(layout, { poolSize: 7, maxClients: 50 })).toBe([
      '; Written by Symphony at each start of the pooler; edits are overwritten.',
      '[databases]',
      '* = host=127.0.0.1 port=21000',
      '',
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      'listen_port = 21001',
      'unix_socket_dir =',
      'auth_type = scram-sha-256',
      'auth_file = /srv/vol/db/pooler/users.txt',
      'auth_user = postgres',
      'admin_users = postgres',
      'pool_mode = transaction',
      'default_pool_size = 7',
      'max_client_conn = 50',
      'ignore_startup_parameters = extra_float_digits',
      'server_login_retry = 1',
      'query_wait_timeout = 120',
      'log_connections = 0',
      'log_disconnections = 0',
      '',
    ].join('\n'));
  });

  it('writes auth lines with the password from the environment, quotes doubled', () => {
    const out = execFileSync('/bin/sh', ['-c', `${authLineCommand('postgres', 'PW')}; ${authLineCommand('a"b', 'PW')}`], { env: { PW: `x"y'z $HOME` }, encoding: 'utf8' });
    expect(out).toBe(`"postgres" "x""y'z $HOME"\n"a""b" "x""y'z $HOME"\n`);
  });

  it("names a version's login role <user>__<schema>, within 63 bytes and never pg_", () => {
    expect(versionRoleName('shop', 'public_002_add_priority')).toBe('shop__public_002_add_priority');
    const long = versionRoleName('shop', 'public_' + 'x'.repeat(70));
    expect(Buffer.byteLength(long)).toBe(63);
    expect(long.startsWith('shop__public_xxx')).toBe(true);
    expect(versionRoleName('pg_x', 's')).toBe('sym_pg_x__s');
  });

  it('wants the roles of the latest complete version and of the in-flight one', () => {
    const v = (status: string, schema: string) => ({ status, schema });
    expect(wantedSchemas({ versions: [] })).toEqual([]);
    expect(wantedSchemas({ versions: [v('complete', 'public_001'), v('complete', 'public_002'), v('in-flight', 'public_003')] })).toEqual(['public_002', 'public_003']);
    expect(wantedSchemas({ versions: [v('complete', 'public_001'), v('rolled-back', 'public_002')] })).toEqual(['public_001']);
    expect(wantedSchemas({ versions: [v('in-flight', 'public_001')] })).toEqual(['public_001']);
  });

  it("binds a dependant's url and user to the version's role, keeping the password placeholder", () => {
    const attrs = { url: 'postgres://shop:${secrets.db.password}@127.0.0.1:21001/shop', user: 'shop', port: '21001' };
    expect(bindToVersion(attrs, 'public_001')).toEqual({
      url: 'postgres://shop__public_001:${secrets.db.password}@127.0.0.1:21001/shop', user: 'shop__public_001', port: '21001', schema: 'public_001',
    });
  });
});
