import { z } from 'zod';

/** A duration such as `500ms`, `10s`, `5m`, or a number of milliseconds. */
export const Duration = z
  .union([z.number().int().nonnegative(), z.string().regex(/^\d+(\.\d+)?(ms|s|m|h)$/, 'a duration like 500ms, 10s, 5m or 1h')])
  .describe('A duration: 500ms, 10s, 5m, 1h, or a number of milliseconds');

const Name = z.string().regex(/^[a-z][a-z0-9-]{0,39}$/, 'lowercase letters, digits and dashes, starting with a letter');
const Port = z.number().int().min(1).max(65535);

export const HealthSpec = z
  .strictObject({
    http: z.string().startsWith('/').optional().describe('HTTP GET path; healthy on 2xx/3xx'),
    tcp: z.boolean().optional().describe('healthy when the port accepts a TCP connection'),
    exec: z.string().optional().describe('shell command; healthy on exit code 0'),
    interval: Duration.optional(),
    timeout: Duration.optional(),
    healthy_threshold: z.number().int().min(1).max(20).optional(),
    unhealthy_threshold: z.number().int().min(1).max(20).optional(),
    start_timeout: Duration.optional().describe('how long a new instance may take to become healthy'),
  })
  .describe('Health probe of each instance');

export const DeploySpec = z.strictObject({
  strategy: z.enum(['blue-green', 'canary', 'rolling', 'recreate']).optional(),
  drain: Duration.optional().describe('how long in-flight requests may finish on the old release'),
  grace: Duration.optional().describe('time between SIGTERM and SIGKILL when stopping an instance'),
  warm: Duration.optional().describe('how long the previous release stays running for an instant rollback'),
  steps: z.array(z.number().int().min(1).max(100)).optional().describe('canary traffic percentages'),
  pause: Duration.optional().describe('canary pause between steps'),
  max_unavailable: z.number().int().min(0).optional(),
  max_surge: z.number().int().min(0).optional(),
});

const EnvMap = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String));

const Common = {
  uses: z.array(Name).optional().describe('services this one needs started first'),
  volume: Name.optional().describe('named volume kept across every replacement'),
  env: EnvMap.optional(),
};

export const AppService = z.strictObject({
  ...Common,
  run: z.string().min(1).describe('command line started by the process runtime'),
  dir: z.string().optional().describe('working directory, relative to the stack file'),
  replicas: z.number().int().min(0).max(100).optional(),
  health: HealthSpec.optional(),
  deploy: DeploySpec.optional(),
  runtime: z.string().optional().describe('runtime driver name (default: process)'),
});

export const PostgresService = z.strictObject({
  ...Common,
  postgres: z.strictObject({
    version: z.string().regex(/^\d+(\.\d+)?$/, 'a version such as "15" or "15.4"'),
    port: Port.optional(),
    database: z.string().optional(),
    user: z.string().optional(),
    password_secret: z.string().optional(),
    settings: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).optional(),
  }),
  migrations: z.string().optional().describe('directory of migration files, one a version'),
});

export const EtcdService = z.strictObject({
  ...Common,
  etcd: z.strictObject({
    version: z.string(),
    members: z.number().int(),
    settings: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).optional(),
  }),
  deploy: DeploySpec.optional(),
});

export const ServiceSpec = z.union([AppService, PostgresService, EtcdService]);

export const RouteSpec = z.strictObject({
  listen: Port,
  to: Name,
  host: z.string().optional(),
  path: z.string().startsWith('/').optional(),
  timeout: Duration.optional(),
});

export const SecretSource = z.union([
  z.strictObject({ env: z.string() }),
  z.strictObject({ file: z.string() }),
]);

export const EnvironmentSpec = z.strictObject({
  routes: z.array(RouteSpec).optional(),
  services: z.record(Name, z.record(z.string(), z.unknown())).optional().describe('per-service overrides, merged over the base'),
  require_rehearsal: z.boolean().optional(),
});

export const StackSpec = z.strictObject({
  name: Name,
  services: z.record(Name, ServiceSpec),
  routes: z.array(RouteSpec).optional(),
  secrets: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), SecretSource).optional(),
  environments: z.record(Name, EnvironmentSpec).optional(),
});

export type Stack = z.infer<typeof StackSpec>;
export type Service = z.infer<typeof ServiceSpec>;
export type AppServiceSpec = z.infer<typeof AppService>;
export type PostgresServiceSpec = z.infer<typeof PostgresService>;
export type EtcdServiceSpec = z.infer<typeof EtcdService>;
export type Route = z.infer<typeof RouteSpec>;
export type Health = z.infer<typeof HealthSpec>;
export type Deploy = z.infer<typeof DeploySpec>;
