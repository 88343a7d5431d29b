#!/usr/bin/env node
// Installs what Symphony's tests, examples and benchmarks need on a fresh machine:
// every program a test starts or calls, from Debian when missing (etcd, haproxy, pgbackrest, pgbouncer,
// PostgreSQL 15, redis, nats, curl, git, setpriv, prometheus, docker.io), then npm packages.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const pgBin = () => existsSync('/usr/lib/postgresql/15/bin/initdb') || has('initdb');

const wanted = [
  ['etcd', 'etcd-server'],
  ['etcdctl', 'etcd-client'],
  ['haproxy', 'haproxy'],
  ['pgbackrest', 'pgbackrest'],
  ['pgbouncer', 'pgbouncer'], // the pooler in front of every postgres service (src/pooler/)
  ['redis-server', 'redis-server'], // cluster-kind.test.ts: a primary/replica cluster: kind
  ['redis-cli', 'redis-tools'],
  ['nats-server', 'nats-server'], // cluster-kind-nats.test.ts
  ['curl', 'curl'], // health and smoke exec checks
  ['git', 'git'], // pipeline tests commit to a local repository
  ['setpriv', 'util-linux'], // postgres runs as its own account
  ['prometheus', 'prometheus'], // observe-metrics.test.ts scrapes the agent's /metrics
  ['dockerd', 'docker.io'], // the container runtime (Symphony starts dockerd itself; no systemd needed)
];
const missing = wanted.filter(([cmd]) => !has(cmd)).map(([, pkg]) => pkg);
if (!pgBin()) missing.push('postgresql-15');
if (missing.length > 0) {
  if (process.getuid && process.getuid() !== 0) {
    console.error(`setup: missing Debian packages ${missing.join(' ')}; run as root: apt-get update && apt-get install -y ${missing.join(' ')}`);
    process.exit(1);
  }
  console.log(`setup: installing ${missing.join(' ')} from Debian`);
  execFileSync('apt-get', ['update', '-q'], { stdio: 'inherit' });
  execFileSync('apt-get', ['install', '-y', '-q', ...missing], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}
if (!existsSync(join(root, 'node_modules', '.package-lock.json'))) {
  console.log('setup: installing npm packages');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
}
