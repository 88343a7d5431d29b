// The host relay of one state dir: listens on the container bridge's gateway
// address on each port listed in <state>/container/relay.json and forwards to
// 127.0.0.1 on the same port, so a container reaches a process-runtime service
// (postgres on 127.0.0.1) by `host.docker.internal:<port>`. Detached like the
// agent; exits when its state dir is gone.
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server } from 'node:net';
import { dirIdentity } from '../../util/dir-identity.js';
import { relayFiles } from './relay.js';

const [stateDir, host] = process.argv.slice(2);
const files = relayFiles(stateDir);
const served = dirIdentity(stateDir);
const listening = new Map<number, Server>();

function forward(port: number): Server {
  const server = createServer((client) => {
    const upstream = connect(port, '127.0.0.1');
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.pipe(upstream).pipe(client);
  });
  server.on('error', (err) => process.stderr.write(`relay ${host}:${port}: ${err.message}\n`));
  server.listen(port, host);
  return server;
}

function sync(): void {
  if (dirIdentity(stateDir) !== served) process.exit(0);
  let ports: number[] = [];
  try {
    ports = (JSON.parse(readFileSync(files.ports, 'utf8')) as { ports: number[] }).ports;
  } catch {
    return;
  }
  for (const p of ports) if (!listening.has(p)) listening.set(p, forward(p));
}

writeFileSync(files.pid, String(process.pid), { mode: 0o600 });
sync();
setInterval(sync, 250);
