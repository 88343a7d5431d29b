import { Cron } from 'croner';
import { z } from 'zod';
import { clusterTemplateProblems, PORT_NAME } from '../kinds/cluster/template.js';
import { PipelineSpec } from '../pipeline/spec.js';
import { ObservabilitySpec } from '../observe/spec.js';

/**
 * The stack file's shape, section by section. This is the one source of truth:
 * the loader validates with it and `stackJsonSchema()` is generated from it.
 * Messages of custom checks start with "must" so they read well after a path.
 */

/** A duration such as `500ms`, `10s`, `5m`, or a number of milliseconds. */
export const Duration = z
  .union(
    [
      z.number().int().nonnegative(),
      z.string().regex(/^\d+(\.\d+)?(ms|s|m|h)$/, 'must be a duration such as 500ms, 10s, 5m or 1h'),
    ],
    { error: 'must be a duration such as 500ms, 10s, 5m or 1h, or a number of milliseconds' },
  )
  .describe('A duration: 500ms, 10s, 5m, 1h, or a number of milliseconds');

export const Name = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,39}$/, 'must be lowercase letters, digits and dashes, starting with a letter, at most 40 long');
const Port = z.number().int().min(1).max(65535);
const PgIdentifier = z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lowercase SQL identifier: letters, digits and underscores, at most 63 long');
const Scalar = z.union([z.string(), z.number(), z.boolean()], { error: 'must be a string, number or boolean' });
const Settings = z.record(z.string(), Scalar.transform(String));

export const HealthSpec = z
  .strictObject({
    http: z.string().startsWith('/', 'must be a path starting with /').optional().describe('HTTP GET path; healthy on 2xx/3xx'),
    tcp: z.boolean().optional().describe('healthy when the port accepts a TCP connection; false alone turns the default probe off'),
    exec: z.string().min(1).optional().describe('shell command; healthy on exit code 0'),
    interval: Duration.optional(),
    timeout: Duration.optional(),
    healthy_threshold: z.number().int().min(1).max(20).optional(),
    unhealthy_threshold: z.number().int().min(1).max(20).optional(),
    start_timeout: Duration.optional().describe('how long a new instance may take to become healthy'),
    settle: Duration.optional().describe('without a probe: how long the process must stay up to count as healthy (default 1s)'),
  })
  .describe('Health probes of each instance, all must pass (default: tcp on $PORT for a service a route targets or with listens: true; otherwise its process staying up 1s)');

export const DeploySpec = z
  .strictObject({
    strategy: z.enum(['blue-green', 'canary', 'rolling', 'recreate']).optional(),
    drain: Duration.optional().describe('how long in-flight requests may finish on the old release'),
    grace: Duration.optional().describe('time between SIGTERM and SIGKILL when stopping an instance'),
    warm: Duration.optional().describe('how long the previous release stays running for an instant rollback'),
    steps: z
      .array(z.number().int().min(1).max(100))
      .min(1)
      .refine((xs) => xs.every((x, i) => i === 0 || x > xs[i - 1]), { error: (iss) => `must rise, each step above the one before, and end at 100 or below it (100 is then implied last); got [${(iss.input as number[]).join(', ')}]` })
      .optional()
      .describe('canary traffic percentages, rising; 100 is implied last'),
    pause: Duration.optional().describe('canary pause between steps'),
    max_unavailable: z.number().int().min(0).optional(),
    max_surge: z.number().int().min(0).optional(),
    sticky: z.enum(['cookie', 'hash', 'none']).optional().describe('canary: keep a client on one release (default cookie)'),
    analysis: z
      .strictObject({
        interval: Duration.optional().describe('how long each canary step is measured (default 10s)'),
        max_error_rate: z.number().min(0).max(1).optional().describe('largest share of 5xx/socket errors on the canary (default 0.01)'),
        max_p99_ratio: z.number().min(1).optional().describe('canary p99 may be at most this times the stable p99 (default 2)'),
        p99_tolerance: Duration.optional().describe('a canary p99 at most this much above the stable p99 always passes: noise, not a regression (default 50ms)'),
        min_requests: z.number().int().min(1).optional().describe('fewest canary requests for a verdict (default 20)'),
      })
      .optional()
      .describe('canary gate on the router measurements between steps'),
  })
  .describe('How a new release replaces the old one');

const EnvName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be letters, digits and underscores, not starting with a digit');
const EnvMap = z.record(EnvName, Scalar.transform(String)).describe('environment variables; values may hold ${service.attr} and ${secrets.NAME}');

/** `runtime:` of a postgres, etcd or cluster service: Symphony has no image with their binaries, so only the process runtime. */
const ProcessOnly = z
  .string()
  .refine((v) => v === 'process', { message: 'postgres, etcd and cluster services run on the process runtime only (Symphony has no container image with their binaries): remove runtime: from this service; containers reach it through its references (${db.url})' })
  .optional()
  .describe('process (the only runtime of this kind)');

/** Where an app's instances run. */
export const RuntimeName = z.enum(['process', 'container'], { error: 'must be process or container' });

/** `image:` of a container app: built from a directory with a Dockerfile, or a local image by name. */
export const ImageSpec = z
  .union(
    [
      z.string().min(1).describe('a local image, name:tag or ID (no registry is asked)'),
      z.strictObject({
        build: z.string().min(1).describe('directory with a Dockerfile, relative to the stack file; FROM symphony/node:<major> needs no registry'),
        dockerfile: z.string().min(1).optional().describe('Dockerfile name inside build (default Dockerfile)'),
      }),
    ],
    { error: 'must be "name:tag" or { build: ./dir }' },
  )
  .describe('container image of the app (container runtime)');

const Common = {
  runtime: ProcessOnly,
  uses: z.array(Name).optional().describe('services this one needs started first'),
  volume: Name.optional().describe('named volume kept across every replacement'),
  env: EnvMap.optional(),
};

/** A cron pattern (5 or 6 fields) that croner accepts. */
const CronPattern = z.string().refine(
  (p) => {
    try {
      new Cron(p, { paused: true }).stop();
      return true;
    } catch {
      return false;
    }
  },
  { message: 'must be a cron pattern such as "0 3 * * *" (minute hour day month weekday)' },
);

const Retention = z
  .union([z.strictObject({ full: z.number().int().min(1).max(1000) }), z.strictObject({ days: z.number().int().min(1).max(3650) })], {
    error: 'must be { full: <count> } or { days: <count> }',
  })
  .optional();

/** `backup:` of an etcd service or an app's plain volume: whole images (snapshots, archives), so full backups only. */
export const SnapshotBackupSection = z
  .strictObject({
    schedule: z.strictObject({ full: CronPattern.optional() }).optional().describe('cron pattern of the backups, run by the agent; without it backups are taken by hand (symphony backup now)'),
    retention: Retention.describe('which backups are kept (default { full: 4 })'),
    verify: z.strictObject({ schedule: CronPattern.optional().describe('when the newest backup is checked against its SHA-256 and restored into a scratch directory') }).optional(),
    repository: z.string().min(1).optional().describe('directory of the backup repository, relative to the stack file (default: under the state dir)'),
  })
  .describe('Scheduled etcd snapshots or volume archives, each with a SHA-256 manifest');

/** A share of one core or a percentage: `70%` or 0.7. */
const CpuShare = z
  .union([z.number().min(0).max(8), z.string().regex(/^\d+(\.\d+)?%$/, 'must be a percentage such as 70%')], { error: 'must be a percentage such as 70% or a fraction of one core such as 0.7' })
  .transform((v) => (typeof v === 'number' ? v : Number(v.slice(0, -1)) / 100));

/** `autoscale:` of an app (src/autoscale/): the replica count follows the instances' CPU. */
export const AutoscaleSection = z
  .strictObject({
    min: z.number().int().min(1).max(100).describe('fewest replicas'),
    max: z.number().int().min(1).max(100).describe('most replicas'),
    mode: z.enum(['step', 'target']).optional().describe('step: add or remove `step` replicas past the thresholds (default); target: desired = ceil(n x cpu / target), as the Kubernetes HPA'),
    cpu: z
      .strictObject({
        up: CpuShare.optional().describe('step mode: scale up when the average CPU is above this (default 70%)'),
        down: CpuShare.optional().describe('step mode: scale down when it is below this (default 20%)'),
        target: CpuShare.optional().describe('target mode: the average CPU to keep (default 50%)'),
      })
      .optional()
      .describe('average CPU over the service\'s instances, as a share of one core each'),
    periods: z.number().int().min(1).max(20).optional().describe('samples in a row past a threshold before acting (default 2)'),
    interval: Duration.optional().describe('how often CPU is sampled (default 15s)'),
    cooldown: z
      .strictObject({ up: Duration.optional().describe('after any scaling, before scaling up again (default 0s)'), down: Duration.optional().describe('after any scaling, before scaling down (default 300s); target mode: the stabilisation window') })
      .optional(),
    step: z.number().int().min(1).max(100).optional().describe('replicas added or removed at a time in step mode (default 1)'),
  })
  .refine((a) => a.min <= a.max, { message: 'min must not be above max', path: ['max'] })
  .refine((a) => a.cpu?.up === undefined || a.cpu?.down === undefined || a.cpu.down < a.cpu.up, { message: 'cpu.down must be below cpu.up, or it would scale down what it just scaled up', path: ['cpu', 'down'] })
  .describe('CPU autoscaling between min and max replicas');

export const AppService = z
  .strictObject({
    ...Common,
    run: z.string().min(1).optional().describe('command line started by the process runtime; with image: the arguments replacing its CMD, split on spaces'),
    image: ImageSpec.optional(),
    port: Port.optional().describe('container runtime: the port the app listens on inside the container (PORT); default: the instance port'),
    build: z.string().min(1).optional().describe('pipeline runs: shell command run once per commit in its own copy, before any stage'),
    dir: z.string().min(1).optional().describe('working directory, relative to the stack file'),
    replicas: z.number().int().min(0).max(100).optional(),
    listens: z.boolean().optional().describe('the app serves on $PORT, so its default health is a TCP probe even when no route targets it (default: true when a route targets it)'),
    health: HealthSpec.optional(),
    deploy: DeploySpec.optional(),
    runtime: RuntimeName.optional().describe('process or container (default: the stack\'s runtime:, else container when image: is set, else process)'),
    backup: SnapshotBackupSection.optional().describe('archives of the volume (needs volume:)'),
    autoscale: AutoscaleSection.optional(),
  })
  .refine((a) => a.backup === undefined || a.volume !== undefined, { message: 'a backup archives the service\'s volume: add volume: <name> to it', path: ['backup'] })
  .refine((a) => a.autoscale === undefined || a.replicas === undefined || (a.replicas >= a.autoscale.min && a.replicas <= a.autoscale.max), {
    message: 'replicas is the starting count and must lie between autoscale.min and autoscale.max',
    path: ['replicas'],
  })
  .refine((a) => a.runtime !== 'container' || a.image !== undefined, { message: 'the container runtime needs an image: give image: { build: ./dir } or image: "name:tag"', path: ['runtime'] })
  .refine((a) => a.runtime !== 'process' || a.run !== undefined, { message: 'the process runtime needs run: <command line> (image: runs on runtime: container)', path: ['runtime'] })
  .refine((a) => a.port === undefined || a.image !== undefined, { message: 'port: is the port inside a container: it needs image:', path: ['port'] })
  .describe('A stateless app run as processes or containers');

export const BackupSection = z
  .strictObject({
    schedule: z
      .strictObject({ full: CronPattern.optional(), diff: CronPattern.optional(), incr: CronPattern.optional() })
      .optional()
      .describe('cron patterns per backup type, run by the agent; without it backups are taken by hand (symphony backup now)'),
    retention: Retention.describe('which backups are kept (default { full: 4 }); older ones and the WAL only they need are expired'),
    verify: z
      .strictObject({
        schedule: CronPattern.optional().describe('when the newest backup is restored into a throwaway server and checked'),
        check: z.string().min(1).describe('SQL query whose first column must be true on the restored copy'),
      })
      .optional(),
    repository: z.string().min(1).optional().describe('directory of the backup repository, relative to the stack file (default: under the state dir)'),
  })
  .describe('Continuous WAL archiving and scheduled backups with pgBackRest');

export const PostgresService = z
  .strictObject({
    ...Common,
    postgres: z.strictObject({
      version: z.string().regex(/^\d+(\.\d+)?$/, 'must be a version such as "15" or "15.4"'),
      port: Port.optional().describe('fixed port; default: allocated once and kept'),
      database: PgIdentifier.optional().describe('default: the user'),
      user: PgIdentifier.optional().describe('default: the stack name with dashes as underscores'),
      password_secret: z.string().optional().describe('name of a declared secret holding the password; default: generated'),
      settings: z
        .record(z.string().regex(/^[a-z_][a-z0-9_.]*$/, 'must be a postgresql.conf setting name'), Scalar.transform(String))
        .optional()
        .describe('postgresql.conf settings'),
    }),
    migrations: z.string().min(1).optional().describe('directory of migration files, one a version'),
    backup: BackupSection.optional(),
  })
  .describe('A PostgreSQL server with a persistent volume');

export const EtcdService = z
  .strictObject({
    ...Common,
    etcd: z.strictObject({
      version: z.string().regex(/^\d+(\.\d+)*$/, 'must be a version such as "3.4"'),
      members: z
        .number()
        .int()
        .refine((n) => n >= 1 && n % 2 === 1, {
          message: 'must be an odd number >= 1: quorum is a majority, so an even count tolerates no more failures than one member fewer',
        }),
      settings: Settings.optional(),
    }),
    deploy: DeploySpec.optional(),
    backup: SnapshotBackupSection.optional(),
  })
  .describe('An etcd cluster, one volume per member');

const ClusterPortName = z.string().regex(PORT_NAME, 'must be a lowercase word of letters and digits, at most 20 long (client, peer, monitor)');
const ClusterCheck = z
  .strictObject({
    http: z.string().regex(/^http:\/\//, 'must be an http:// URL such as http://127.0.0.1:{monitor_port}/healthz').optional().describe('healthy on 2xx/3xx'),
    exec: z.string().min(1).optional().describe('shell command; healthy on exit code 0'),
    tcp: ClusterPortName.optional().describe("a declared port name; healthy when the member's port accepts a connection"),
    timeout: Duration.optional().describe('default 2s'),
  })
  .refine((c) => [c.http, c.exec, c.tcp].filter((x) => x !== undefined).length === 1, { message: 'must have exactly one of http, exec, tcp' });
const ClusterExec = z.strictObject({ exec: z.string().min(1).describe('shell command'), timeout: Duration.optional().describe('default 2s') });

export const ClusterSection = z
  .strictObject({
    members: z
      .number()
      .int()
      .refine((n) => n >= 1 && n % 2 === 1 && n <= 9, {
        message: 'must be an odd number from 1 to 9: quorum is a majority, so an even count tolerates no more failures than one member fewer',
      }),
    command: z.string().min(1).describe('command line of one member; placeholders {name} {index} {data_dir} {<port>_port} {<port>_urls}…'),
    ports: z
      .array(ClusterPortName)
      .min(1)
      .max(8)
      .refine((p) => new Set(p).size === p.length, { message: 'must not name a port twice' })
      .describe('named ports of every member, allocated once and kept; the first is the client port'),
    scheme: z.string().regex(/^[a-z][a-z0-9+.-]*$/, 'must be a URL scheme such as nats or redis').optional().describe('scheme of {<port>_urls} and ${svc.endpoints} (default http)'),
    health: ClusterCheck.optional().describe('check of one member (default: tcp on the first port)'),
    cluster_health: ClusterCheck.optional().describe('check of the whole cluster, cluster-wide placeholders only'),
    leader: ClusterExec.optional().describe("run on each member; prints the leader it sees: index, name or host:port; without it members have no order"),
    caught_up: ClusterExec.optional().describe('run on a member; exit 0 once it has caught up (default: its health check)'),
    handover: ClusterExec.optional().describe(
      'hand leadership to the member it runs for (its placeholders, plus {leader_name} {leader_index} {leader_<port>_port}) before the leader is replaced; needs leader (default timeout 30s)',
    ),
    snapshot: ClusterExec.optional().describe('write a consistent backup of the cluster to {snapshot_path} before the first member goes down (default timeout 30s)'),
  })
  .superRefine((c, ctx) => {
    for (const p of clusterTemplateProblems(c)) ctx.addIssue({ code: 'custom', path: p.path, message: p.message });
  });

export const ClusterService = z
  .strictObject({
    ...Common,
    volume: Name.describe('root of the per-member data directories {data_dir}'),
    cluster: ClusterSection,
    deploy: DeploySpec.optional(),
  })
  .describe('A replicated program (NATS, Redis, Consul…) given as a command template, one volume per member');

/** For editors only: the loader picks the schema by the kind key (see `KIND_SCHEMAS`). */
export const ServiceSpec = z.union([AppService, PostgresService, EtcdService, ClusterService]);

export const KIND_SCHEMAS = { app: AppService, postgres: PostgresService, etcd: EtcdService, cluster: ClusterService } as const;

export const RouteSpec = z.strictObject({
  listen: Port.describe('port the router listens on'),
  to: Name.describe('app service that receives the traffic'),
  host: z.string().min(1).optional().describe('match the Host header'),
  path: z.string().startsWith('/', 'must be a path starting with /').optional().describe('match a path prefix'),
  timeout: Duration.optional(),
});

export const SecretName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be letters, digits and underscores, not starting with a digit');

export const SecretSource = z
  .strictObject({
    env: z.string().min(1).optional().describe('read from this environment variable of the CLI'),
    file: z.string().min(1).optional().describe('read from this file, relative to the stack file'),
  })
  .refine((s) => (s.env === undefined) !== (s.file === undefined), { message: 'must have exactly one of env, file' })
  // The refinement, for JSON Schema validators (editors): exactly one of the two keys.
  .meta({ oneOf: [{ required: ['env'] }, { required: ['file'] }] });

export const SmokeCheck = z
  .strictObject({
    name: z.string().min(1).optional().describe('shown in the rehearsal report (default: the URL or command)'),
    http: z.string().regex(/^(https?:\/\/|\$\{)/, 'must be a URL such as http://${api.host}:${api.port}/healthz').optional().describe('GET this URL; may hold ${service.attr}'),
    exec: z.string().min(1).optional().describe('shell command run in the stack directory; may hold ${service.attr}'),
    expect: z.number().int().min(0).max(599).optional().describe('HTTP status (default 200) or exit code (default 0)'),
    contains: z.string().min(1).optional().describe('the response body or the command output must contain this text'),
    timeout: Duration.optional().describe('default 10s'),
  })
  .refine((c) => (c.http === undefined) !== (c.exec === undefined), { message: 'must have exactly one of http, exec' })
  .meta({ oneOf: [{ required: ['http'] }, { required: ['exec'] }] })
  .describe('A check run against a rehearsal copy after the change was applied there');

export const EnvironmentSpec = z.strictObject({
  routes: z.array(RouteSpec).optional().describe('replaces the base routes'),
  services: z
    .record(Name, z.record(z.string(), z.unknown(), { error: 'must be a mapping of keys to override' }))
    .optional()
    .describe('per-service overrides, deep-merged over the base'),
  require_rehearsal: z.boolean().optional(),
});

function stackShape<S extends z.ZodType>(service: S) {
  return z.strictObject({
    name: Name,
    services: z.record(Name, service),
    routes: z.array(RouteSpec).optional(),
    secrets: z.record(SecretName, SecretSource).optional(),
    environments: z.record(Name, EnvironmentSpec).optional(),
    smoke: z.array(SmokeCheck).optional().describe('checks `symphony rehearse` runs on the copy after applying the change'),
    pipeline: PipelineSpec.optional(),
    observability: ObservabilitySpec.optional(),
    runtime: RuntimeName.optional().describe('default runtime of the stack\'s apps (postgres, etcd and clusters always run as processes)'),
  });
}

export const StackSpec = stackShape(ServiceSpec);

/** First pass of the loader: services are checked one by one afterwards, by kind. */
export const StackShell = stackShape(
  z.record(z.string(), z.unknown(), { error: 'must be a mapping with one of run or image, postgres, etcd, cluster' }),
);

/**
 * JSON Schema (draft 2020-12) of the stack file for editors, generated from
 * the zod schema the loader validates with. Describes the input as written
 * (durations as strings or numbers, env values as strings, numbers or booleans).
 */
export function stackJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(StackSpec, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  // An app names run:, image: or both (a refinement zod cannot express in JSON Schema).
  const services = (schema.properties as Record<string, { additionalProperties?: { anyOf?: Array<Record<string, unknown>> } }>).services;
  const app = services.additionalProperties?.anyOf?.[0];
  if (app) app.anyOf = [{ required: ['run'] }, { required: ['image'] }];
  return {
    ...schema,
    $id: 'https://symphony.dev/schema/stack.json',
    title: 'Symphony stack file',
    description: 'One file that describes a stack of services; see docs/stack-file.md',
  };
}

/**
 * What an omitted key means. The planner (src/plan/release.ts) and the health
 * checks (src/health/check.ts) apply these; docs/stack-file.md lists them.
 * Durations are in milliseconds.
 */
export const DEFAULTS = {
  replicas: 1,
  runtime: 'process',
  deploy: {
    strategy: 'blue-green',
    drainMs: 10_000,
    graceMs: 10_000,
    warmMs: 300_000,
    steps: [10, 50, 100],
    pauseMs: 0,
    maxUnavailable: 0,
    maxSurge: 1,
  },
  health: {
    startTimeoutMs: 60_000,
    intervalMs: 1_000,
    timeoutMs: 2_000,
    healthyThreshold: 1,
    unhealthyThreshold: 3,
    /**
     * An app without a probe in `health:` that a route targets (or with `listens: true`) is
     * healthy when its PORT accepts TCP connections; any other app when its process has
     * stayed up `settleMs`.
     */
    probe: 'tcp',
    settleMs: 1_000,
  },
} as const;

export type Stack = z.infer<typeof StackSpec>;
export type Service = z.infer<typeof ServiceSpec>;
export type AppServiceSpec = z.infer<typeof AppService>;
export type PostgresServiceSpec = z.infer<typeof PostgresService>;
export type EtcdServiceSpec = z.infer<typeof EtcdService>;
export type ClusterServiceSpec = z.infer<typeof ClusterService>;
export type Route = z.infer<typeof RouteSpec>;
export type Health = z.infer<typeof HealthSpec>;
export type Deploy = z.infer<typeof DeploySpec>;
export type Environment = z.infer<typeof EnvironmentSpec>;
export type Smoke = z.infer<typeof SmokeCheck>;
export type BackupSpec = z.infer<typeof BackupSection>;
