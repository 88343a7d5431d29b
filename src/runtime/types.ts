/**
 * The only way Symphony starts, stops or inspects an instance. Kinds and
 * strategies describe instances; a RuntimeDriver makes them exist.
 */

/** What to run for one instance. Fully resolved: secrets are already substituted in `env`. */
export interface InstanceSpec {
  /** Unique, deterministic id, e.g. `api-3f9a2c1d-0`. Stamped on the process so it can be found again. */
  id: string;
  service: string;
  release: string;
  /** Shell command line, run with `/bin/sh -c`. */
  command: string;
  cwd: string;
  env: Record<string, string>;
  /** Port assigned to this instance; exported as PORT. */
  port?: number;
  /** Directory for this instance's logs (stdout+stderr go to `<logDir>/<id>.log`). */
  logDir: string;
  /** Set for an instance of the container runtime: what to create it from (`command` and `cwd` are then unused). */
  container?: ContainerSpec;
}

/** The container part of an instance: image, published port, mounts. */
export interface ContainerSpec {
  /** Image ID (`sha256:…`) the container is created from. */
  image: string;
  /** Port the app listens on inside the container, published on 127.0.0.1:`port` of the instance. */
  containerPort?: number;
  /** Host directories bind-mounted into the container (the Symphony volume at /data). */
  mounts: Array<{ source: string; target: string }>;
  /** Arguments replacing the image's CMD (`run:` split on spaces); omitted = the image's own. */
  cmd?: string[];
}

/** Identity of a running instance: the pid alone is not enough (pids are reused). */
export interface InstanceHandle {
  id: string;
  pid: number;
  /** Process start time in clock ticks since boot (field 22 of /proc/<pid>/stat). */
  startTime: number;
}

export interface ObservedInstance extends InstanceHandle {
  service: string;
  release: string;
  /** The PORT the instance was started with, when it has one (lets a restarted agent probe it again). */
  port?: number;
}

export interface StopOptions {
  /** Time between SIGTERM and SIGKILL. */
  graceMs: number;
  /** First signal sent (default SIGTERM); e.g. SIGINT for PostgreSQL's fast shutdown. */
  signal?: NodeJS.Signals;
}

/** What an instance uses now: its process group (process runtime) or its cgroup (containers). */
export interface InstanceUsage {
  /** CPU time since the instance started, user + system, including children it reaped. */
  cpuSeconds: number;
  /** Resident memory of its processes, summed. */
  residentBytes: number;
  processes: number;
}

export interface RuntimeDriver {
  readonly name: string;
  /** Start an instance detached from the caller: it survives the agent's death. */
  start(spec: InstanceSpec): Promise<InstanceHandle>;
  /** Stop gracefully (SIGTERM to the process group, wait `graceMs`, then SIGKILL). Idempotent. */
  stop(handle: InstanceHandle, opts: StopOptions): Promise<void>;
  /** True when the process identified by pid + start time still runs. */
  isAlive(handle: InstanceHandle): boolean;
  /** Every instance of this runtime's scope (state dir) that runs now, found by its stamp. */
  list(): Promise<ObservedInstance[]>;
  /** Path of an instance's current log file. */
  logFile(id: string): string;
  /** CPU and memory of running instances, by instance id; one missing from the answer is not running. Optional: metrics skip a driver without it. */
  usage?(handles: InstanceHandle[]): Promise<Map<string, InstanceUsage>>;
}
