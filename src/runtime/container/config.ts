import type Dockerode from 'dockerode';
import { STAMP } from '../process/launch.js';
import type { InstanceSpec } from '../types.js';
import { LABEL } from './labels.js';

/** Name containers reach the host by (`${db.url}` of a process-runtime service is rewritten to it). */
export const HOST_GATEWAY_NAME = 'host.docker.internal';

/**
 * Loopback addresses in an env value, as seen from inside a container, point
 * at the container itself: they are rewritten to the host gateway name, so
 * `postgres://…@127.0.0.1:21001/db` reaches the host's server (through the
 * relay on the gateway address, src/runtime/container/relay.ts).
 */
export function containerEnvValue(value: string): string {
  return value.replace(/(^|[@/=,\s])(?:127\.0\.0\.1|localhost)(?=:\d)/g, `$1${HOST_GATEWAY_NAME}`);
}

/** Host ports a container's env names on loopback (the relay listens on them at the gateway). */
export function loopbackPorts(env: Record<string, string>): number[] {
  const ports = new Set<number>();
  for (const v of Object.values(env)) for (const m of v.matchAll(/(?:^|[@/=,\s])(?:127\.0\.0\.1|localhost):(\d{1,5})/g)) ports.add(Number(m[1]));
  return [...ports].sort((a, b) => a - b);
}

/**
 * The engine's create request of an instance (pure): image, env (PORT is the
 * container port), labels, an init as PID 1, the port published on
 * 127.0.0.1:<instance port>, bind mounts, bounded engine logs.
 */
export function containerConfig(scope: string, spec: InstanceSpec): Dockerode.ContainerCreateOptions {
  const c = spec.container!;
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(spec.env)) env[k] = containerEnvValue(v);
  const inner = c.containerPort ?? spec.port;
  if (inner !== undefined) env.PORT = String(inner);
  env[STAMP.instance] = spec.id;
  env[STAMP.service] = spec.service;
  env[STAMP.release] = spec.release;
  const labels: Record<string, string> = { [LABEL.scope]: scope, [LABEL.service]: spec.service, [LABEL.release]: spec.release, [LABEL.instance]: spec.id };
  const opts: Dockerode.ContainerCreateOptions = {
    Image: c.image,
    Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    Labels: labels,
    HostConfig: {
      Init: true,
      Binds: c.mounts.map((m) => `${m.source}:${m.target}`),
      ExtraHosts: [`${HOST_GATEWAY_NAME}:host-gateway`],
      LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } },
      RestartPolicy: { Name: 'no' },
    },
  };
  if (c.cmd) opts.Cmd = c.cmd;
  if (inner !== undefined && spec.port !== undefined) {
    labels[LABEL.port] = String(spec.port);
    opts.ExposedPorts = { [`${inner}/tcp`]: {} };
    opts.HostConfig!.PortBindings = { [`${inner}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: String(spec.port) }] };
  }
  return opts;
}
