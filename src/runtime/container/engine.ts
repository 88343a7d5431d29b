import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type Dockerode from 'dockerode';
import { RuntimeError } from '../../errors.js';

/** Where Symphony keeps the engine it starts itself (when DOCKER_HOST is not set). */
export const ENGINE_ROOT = process.env.SYMPHONY_DOCKER_ROOT ?? '/var/lib/symphony/docker';
export const ENGINE_SOCKET = process.env.SYMPHONY_DOCKER_SOCKET ?? '/run/symphony-docker.sock';

const START_TIMEOUT_MS = 60_000;

/** A Docker Engine API endpoint: one Symphony started, or the one DOCKER_HOST names. */
export interface Engine {
  docker: Dockerode;
  /** `unix:///run/symphony-docker.sock`, or DOCKER_HOST as given. */
  address: string;
  /** `symphony` when Symphony owns the engine (started here or earlier), `DOCKER_HOST` otherwise. */
  owner: 'symphony' | 'DOCKER_HOST';
  /** Engine version (`20.10.24+dfsg1`, or podman's) and API version. */
  version: string;
  apiVersion: string;
}

export interface EngineOptions {
  /** Told once when Symphony starts dockerd itself (the CLI prints it, the agent logs it). */
  onStart?: (line: string) => void;
  /** When false, an engine is never started: null when none answers. */
  start?: boolean;
}

/** The dockerode client of an address (`unix://…`, `tcp://host:port`). */
async function clientOf(address: string): Promise<Dockerode> {
  const { default: Docker } = await import('dockerode');
  if (address.startsWith('unix://')) return new Docker({ socketPath: address.slice('unix://'.length) });
  const url = new URL(address.replace(/^tcp:/, 'http:'));
  return new Docker({ host: url.hostname, port: Number(url.port || 2375), protocol: 'http' });
}

async function answers(docker: Dockerode): Promise<boolean> {
  try {
    await docker.ping();
    return true;
  } catch {
    return false;
  }
}

async function describe(docker: Dockerode, address: string, owner: Engine['owner']): Promise<Engine> {
  const v = await docker.version();
  return { docker, address, owner, version: v.Version, apiVersion: v.ApiVersion };
}

let cached: Engine | null = null;

/**
 * The engine containers run on. DOCKER_HOST picks an existing engine (dockerd
 * or `podman system service`); otherwise Symphony's own dockerd is used,
 * started detached the way the agent is (data root, exec root, pid file and
 * socket under a Symphony-owned dir) when it does not answer yet, and reused
 * by every later caller. Null only with `start: false` and no engine running.
 */
export async function ensureEngine(opts: EngineOptions = {}): Promise<Engine | null> {
  if (cached) return cached;
  const found = await findOrStart(opts);
  if (found) cached = found;
  return found;
}

/** ensureEngine that never returns null. */
export async function requireEngine(opts: EngineOptions = {}): Promise<Engine> {
  const e = await ensureEngine({ ...opts, start: true });
  if (!e) throw new RuntimeError('no container engine', 'install docker.io (apt-get install docker.io) or set DOCKER_HOST');
  return e;
}

async function findOrStart(opts: EngineOptions): Promise<Engine | null> {
  const host = process.env.DOCKER_HOST;
  if (host) {
    const docker = await clientOf(host);
    if (await answers(docker)) return describe(docker, host, 'DOCKER_HOST');
    throw new RuntimeError(`the container engine at DOCKER_HOST=${host} does not answer`, 'start it (dockerd or podman system service), or unset DOCKER_HOST to let Symphony start its own dockerd');
  }
  const address = `unix://${ENGINE_SOCKET}`;
  const docker = await clientOf(address);
  if (existsSync(ENGINE_SOCKET) && (await answers(docker))) return describe(docker, address, 'symphony');
  if (opts.start === false) return null;
  const pid = startDockerd();
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    await sleep(100);
    if (await answers(docker)) {
      const engine = await describe(docker, address, 'symphony');
      opts.onStart?.(`started dockerd ${engine.version} (pid ${pid}) on ${address}, data in ${ENGINE_ROOT}`);
      return engine;
    }
  }
  throw new RuntimeError(`dockerd did not answer on ${ENGINE_SOCKET} within ${START_TIMEOUT_MS / 1000} s`, `look at ${join(ENGINE_ROOT, 'dockerd.log')}`);
}

/** Spawn dockerd detached (a second one racing for the same pid file exits; the first one serves). */
function startDockerd(): number {
  if (spawnSync('sh', ['-c', 'command -v dockerd'], { stdio: 'ignore' }).status !== 0) {
    throw new RuntimeError('a service runs on the container runtime, but dockerd is not installed and DOCKER_HOST is not set', 'install it: apt-get install -y docker.io (or set DOCKER_HOST to a running engine), then run the command again');
  }
  mkdirSync(join(ENGINE_ROOT, 'data'), { recursive: true, mode: 0o711 });
  mkdirSync(join(ENGINE_ROOT, 'exec'), { recursive: true, mode: 0o700 });
  const out = openSync(join(ENGINE_ROOT, 'dockerd.log'), 'a', 0o600);
  try {
    const child = spawn(
      'dockerd',
      ['--data-root', join(ENGINE_ROOT, 'data'), '--exec-root', join(ENGINE_ROOT, 'exec'), '--pidfile', join(ENGINE_ROOT, 'dockerd.pid'), '-H', `unix://${ENGINE_SOCKET}`, '--log-level', 'warn'],
      { detached: true, stdio: ['ignore', out, out], env: { PATH: process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' } },
    );
    child.on('error', () => undefined);
    child.unref();
    return child.pid ?? -1;
  } finally {
    closeSync(out);
  }
}

/** Pid of Symphony's own dockerd, when its pid file names one. */
export function dockerdPid(): number | null {
  try {
    const pid = Number(readFileSync(join(ENGINE_ROOT, 'dockerd.pid'), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}
