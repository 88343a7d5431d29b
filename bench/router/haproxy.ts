import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** HAProxy config with the settings a production setup of this shape would use: keep-alive both ways. */
export function haproxyConfig(listen: number, backendPort: number): string {
  return `global
  maxconn 4000
defaults
  mode http
  option http-keep-alive
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  http-reuse always
frontend bench
  bind 127.0.0.1:${listen}
  default_backend app
backend app
  option forwardfor
  server app1 127.0.0.1:${backendPort}
`;
}

/** Start HAProxy in the foreground (-db) as a child, with its config in `dir`. */
export async function startHaproxy(dir: string, listen: number, backendPort: number): Promise<ChildProcess> {
  const cfg = join(dir, 'haproxy.cfg');
  await writeFile(cfg, haproxyConfig(listen, backendPort));
  const child = spawn('haproxy', ['-db', '-f', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  child.once('exit', (code) => {
    if (code !== 0 && code !== null) process.stderr.write(`haproxy exited with ${code}: ${stderr}\n`);
  });
  return child;
}
