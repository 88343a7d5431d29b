import { ContainerDriver } from './container/driver.js';
import { ProcessDriver } from './process/index.js';
import type { InstanceHandle, InstanceSpec, InstanceUsage, ObservedInstance, RuntimeDriver, StopOptions } from './types.js';

/**
 * The drivers of one state dir behind one RuntimeDriver, as the agent uses
 * them: an instance with an image goes to the container runtime, any other to
 * the process runtime. Liveness is pid + start time for both (a container's
 * PID 1 as the host sees it); `list()` is both runtimes' instances. The
 * engine is never started to list or stop: a stack without containers never
 * talks to one.
 */
export class RuntimeSet implements RuntimeDriver {
  readonly name = 'set';
  readonly process: ProcessDriver;
  readonly container: ContainerDriver;

  constructor(opts: { scope: string; onEngineStart?: (line: string) => void }) {
    this.process = new ProcessDriver({ scope: opts.scope });
    this.container = new ContainerDriver({ scope: opts.scope, onEngineStart: opts.onEngineStart });
  }

  start(spec: InstanceSpec): Promise<InstanceHandle> {
    return spec.container ? this.container.start(spec) : this.process.start(spec);
  }

  async stop(handle: InstanceHandle, opts: StopOptions): Promise<void> {
    if (await this.container.owns(handle.id)) return this.container.stop(handle, opts);
    return this.process.stop(handle, opts);
  }

  isAlive(handle: InstanceHandle): boolean {
    return this.process.isAlive(handle);
  }

  async list(): Promise<ObservedInstance[]> {
    const [procs, containers] = await Promise.all([this.process.list(), this.container.list()]);
    return [...procs, ...containers];
  }

  /** CPU and memory by process group for both runtimes: a container's PID 1 leads its group as the host sees it. */
  usage(handles: InstanceHandle[]): Promise<Map<string, InstanceUsage>> {
    return this.process.usage(handles);
  }

  logFile(id: string): string {
    return this.process.logFile(id);
  }

  /** Stop following container logs (the agent closes). */
  close(): void {
    this.container.close();
  }
}
