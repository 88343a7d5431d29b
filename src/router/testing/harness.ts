import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../util/ports.js';
import { RouterClient } from '../client.js';
import { startRouter } from '../daemon.js';
import type { Backend, RouteConfig } from '../types.js';
import { startUpstreamApp, type UpstreamApp } from './upstream-app.js';

/** A router in this process with its own temp dir, plus upstream apps; `close` removes everything. */
export interface RouterHarness {
  dir: string;
  client: RouterClient;
  metricsPort: number;
  apps: UpstreamApp[];
  app(name: string): Promise<UpstreamApp>;
  close(): Promise<void>;
}

export async function startHarness(): Promise<RouterHarness> {
  const dir = await mkdtemp(join(tmpdir(), 'symphony-router-'));
  const metricsPort = await freePort();
  const router = await startRouter({ dir, metricsPort, healthIntervalMs: 200 });
  const apps: UpstreamApp[] = [];
  return {
    dir,
    client: new RouterClient(router.socketPath),
    metricsPort,
    apps,
    async app(name) {
      const a = await startUpstreamApp(name);
      apps.push(a);
      return a;
    },
    async close() {
      await router.close();
      await Promise.all(apps.map((a) => a.close()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A backend of one release over some apps. */
export function backend(release: string, weight: number, apps: { port: number; name?: string }[]): Backend {
  return { release, weight, upstreams: apps.map((a, i) => ({ id: `${release}-${i}`, host: '127.0.0.1', port: a.port })) };
}

export function route(id: string, listen: number, backends: Backend[], extra: Partial<RouteConfig> = {}): RouteConfig {
  return { id, listen, backends, ...extra };
}

export interface Answer {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

/** One HTTP request with node:http (no pooling surprises); socket errors reject. */
export function get(port: number, path: string, headers: Record<string, string> = {}, method = 'GET', body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    // A fresh connection per call: Node 20's global agent keeps sockets alive, and a pooled socket to a killed router hangs up instead of being refused.
    const req = request({ host: '127.0.0.1', port, path, method, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, headers: res.headers }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
