import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type Dockerode from 'dockerode';
import { RuntimeError } from '../../errors.js';
import { readStat } from '../process/proc.js';
import type { InstanceHandle, InstanceSpec, ObservedInstance, RuntimeDriver, StopOptions } from '../types.js';
import { ensureEngine, requireEngine, type Engine } from './engine.js';
import { LABEL, containerName, scopeFilter } from './labels.js';
import { LogPump } from './logs.js';
import { containerConfig, loopbackPorts } from './config.js';
import { ensureRelay } from './relay.js';

export interface ContainerDriverOptions {
  /** State directory; stamped on every container as a label so `list()` finds this scope's instances only. */
  scope: string;
  /** Where `logFile(id)` looks for instances this driver has not seen start (default `<scope>/logs`). */
  logDir?: string;
  /** Told once when the driver had to start Symphony's own dockerd. */
  onEngineStart?: (line: string) => void;
}

const notFound = (err: unknown): boolean => [404, 304].includes((err as { statusCode?: number }).statusCode ?? 0);

/**
 * Runs instances as containers through the Docker Engine API (dockerd or
 * podman): labelled with scope, service, release and instance, an init as
 * PID 1 (`HostConfig.Init`), the instance port published on 127.0.0.1. The
 * handle is the container's PID 1 as the host sees it (pid + start time), so
 * `isAlive` is one stat, like the process runtime's. Output is copied from the
 * engine into `<logDir>/<id>.log` by a pump that a restarted agent resumes.
 */
export class ContainerDriver implements RuntimeDriver {
  readonly name = 'container';
  readonly scope: string;
  private readonly defaultLogDir: string;
  private readonly logDirs = new Map<string, string>();
  private readonly pumps = new Map<string, LogPump>();
  /** Instance ids known to be containers of this scope (started or listed here). */
  private readonly known = new Set<string>();

  constructor(private readonly opts: ContainerDriverOptions) {
    this.scope = resolve(opts.scope);
    this.defaultLogDir = resolve(opts.logDir ?? join(this.scope, 'logs'));
  }

  async start(spec: InstanceSpec): Promise<InstanceHandle> {
    if (!spec.container) throw new RuntimeError(`instance ${spec.id} has no image`, `give services.${spec.service} an image: (or runtime: process), then run symphony plan`);
    const engine = await requireEngine({ onStart: this.opts.onEngineStart });
    await ensureRelay(engine, this.scope, loopbackPorts(spec.env));
    const name = containerName(this.scope, spec.id);
    await removeContainer(engine.docker.getContainer(name));
    let container: Dockerode.Container;
    try {
      container = await engine.docker.createContainer({ name, ...containerConfig(this.scope, spec) });
      await container.start();
    } catch (err) {
      throw new RuntimeError(`cannot start container of instance ${spec.id} (${spec.container.image.slice(0, 19)}): ${(err as Error).message}`, `check services.${spec.service}.image and port, then run symphony apply again`);
    }
    this.known.add(spec.id);
    this.logDirs.set(spec.id, resolve(spec.logDir));
    const handle = await this.handleOf(container, spec.id);
    if (!handle) throw new RuntimeError(`instance ${spec.id}: its container exited immediately after start`, `look at its log: ${this.logFile(spec.id)}`);
    this.pump(container, spec.id);
    return handle;
  }

  isAlive(handle: InstanceHandle): boolean {
    const stat = readStat(handle.pid);
    return stat !== null && stat.startTime === handle.startTime && stat.state !== 'Z' && stat.state !== 'X';
  }

  async stop(handle: InstanceHandle, opts: StopOptions): Promise<void> {
    const engine = await ensureEngine({ start: false });
    if (!engine) return;
    const container = engine.docker.getContainer(containerName(this.scope, handle.id));
    const grace = Math.max(1, Math.ceil(opts.graceMs / 1000));
    try {
      if (opts.signal && opts.signal !== 'SIGTERM') {
        await container.kill({ signal: opts.signal });
        const deadline = Date.now() + opts.graceMs;
        while (Date.now() < deadline && (await running(container))) await sleep(100);
        await container.stop({ t: 0 });
      } else {
        await container.stop({ t: grace });
      }
    } catch (err) {
      if (!notFound(err) && !/is not running/.test((err as Error).message)) {
        throw new RuntimeError(`cannot stop the container of instance ${handle.id}: ${(err as Error).message}`, `look at it: docker inspect ${containerName(this.scope, handle.id)}`);
      }
    }
    const pump = this.pumps.get(handle.id);
    if (pump) await Promise.race([pump.done, sleep(2000)]);
    await removeContainer(container);
    this.known.delete(handle.id);
  }

  async list(): Promise<ObservedInstance[]> {
    const engine = await ensureEngine({ start: false });
    if (!engine) return [];
    const found: ObservedInstance[] = [];
    for (const c of await engine.docker.listContainers({ filters: scopeFilter(this.scope) })) {
      const id = c.Labels[LABEL.instance];
      if (!id) continue;
      const container = engine.docker.getContainer(c.Id);
      const handle = await this.handleOf(container, id);
      if (!handle) continue;
      const observed: ObservedInstance = { ...handle, service: c.Labels[LABEL.service] ?? '', release: c.Labels[LABEL.release] ?? '' };
      const port = Number(c.Labels[LABEL.port]);
      if (Number.isInteger(port) && port > 0) observed.port = port;
      found.push(observed);
      this.known.add(id);
      this.pump(container, id);
    }
    return found;
  }

  logFile(id: string): string {
    return join(this.logDirs.get(id) ?? this.defaultLogDir, `${id}.log`);
  }

  /** True when `id` is an instance of this driver: seen here, or a container of this scope exists for it. */
  async owns(id: string): Promise<boolean> {
    if (this.known.has(id)) return true;
    const engine = await ensureEngine({ start: false });
    if (!engine) return false;
    try {
      const info = await engine.docker.getContainer(containerName(this.scope, id)).inspect();
      return info.Config.Labels?.[LABEL.scope] === this.scope;
    } catch {
      return false;
    }
  }

  /** The engine this driver talks to, when one runs. */
  engine(): Promise<Engine | null> {
    return ensureEngine({ start: false });
  }

  /** Stop following logs (the agent shuts down; containers keep running). */
  close(): void {
    for (const p of this.pumps.values()) p.close();
    this.pumps.clear();
  }

  private pump(container: Dockerode.Container, id: string): void {
    if (this.pumps.has(id)) return;
    const pump = new LogPump(container, this.logFile(id));
    this.pumps.set(id, pump);
    void pump.done.then(() => this.pumps.get(id) === pump && this.pumps.delete(id));
  }

  private async handleOf(container: Dockerode.Container, id: string): Promise<InstanceHandle | null> {
    const info = await container.inspect();
    const pid = info.State.Pid;
    const stat = info.State.Running && pid > 0 ? readStat(pid) : null;
    return stat ? { id, pid, startTime: stat.startTime } : null;
  }
}

async function running(container: Dockerode.Container): Promise<boolean> {
  try {
    return (await container.inspect()).State.Running;
  } catch {
    return false;
  }
}

async function removeContainer(container: Dockerode.Container): Promise<void> {
  try {
    await container.remove({ force: true });
  } catch (err) {
    if (!notFound(err) && !/already in progress/.test((err as Error).message)) throw err;
  }
}
