import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { dirname, resolve } from 'node:path';
import { SpecError } from '../errors.js';
import { checkFiles, checkPasswordSecrets, checkPorts, checkUses, checkVolumes, type CheckedService, type PlacedRoute } from './checks.js';
import { deepMerge, isPlain, overridePath, selectEnvironment } from './environments.js';
import { dependencies, findCycles, topologicalOrder, type Edge } from './graph.js';
import { fromZod, toIssues, type Finding } from './issues.js';
import { checkReferences, kindOf, KIND_KEYS, type ReferenceSite, type ServiceKindName } from './references.js';
import { KIND_SCHEMAS, RouteSpec, SecretSource, StackShell, type AppServiceSpec, type ClusterServiceSpec, type EtcdServiceSpec, type PostgresServiceSpec, type Route } from './schema.js';
import { StackSource, type PathKey } from './source.js';
import { checkRuntimes } from './runtime.js';
import { pipelineFindings, type PipelineConfig } from '../pipeline/spec.js';
import { observabilityOf, type ObservabilityConfig } from '../observe/spec.js';

/** One service of the loaded stack, after the environment's overrides. */
export interface ServiceNode {
  name: string;
  kind: ServiceKindName;
  spec: AppServiceSpec | PostgresServiceSpec | EtcdServiceSpec | ClusterServiceSpec;
  /** Services from `uses` and from `${svc.attr}` references, sorted, deduplicated. */
  deps: string[];
}

/** A declared secret: where its value is read from at apply time (never read by the loader). */
export interface SecretRef {
  name: string;
  env?: string;
  /** Absolute path. */
  file?: string;
}

/** A validated stack file for one environment. */
export interface LoadedStack {
  file: string;
  dir: string;
  /** Environment name; 'default' when none is chosen. */
  env: string;
  name: string;
  /** Dependencies first, ties broken by name. */
  services: ServiceNode[];
  /** After the environment's override. */
  routes: Route[];
  secrets: SecretRef[];
  requireRehearsal: boolean;
  /** The `pipeline:` section, as validated (not environment-specific). */
  pipeline: PipelineConfig | null;
  /** The `observability:` section (one per stack, not environment-specific); null without one. */
  observability: ObservabilityConfig | null;
}

/** Read and validate a stack file. Throws `SpecError` carrying every issue found. */
export function loadStack(file: string, opts: { env?: string } = {}): LoadedStack {
  const abs = resolve(file);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : `cannot be read (${(err as Error).message})`;
    throw new SpecError([{ file: abs, line: 1, column: 1, path: '', message: `the stack file ${why}; pass another one with -f <file>` }]);
  }
  return parseStackText(text, abs, opts);
}

/** Validate stack file text; `dir` (default: the file's directory) anchors relative paths. */
export function parseStackText(text: string, file: string, opts: { env?: string; dir?: string } = {}): LoadedStack {
  const abs = resolve(file);
  const dir = resolve(opts.dir ?? dirname(abs));
  const src = new StackSource(abs, text);
  if (src.syntaxIssues.length > 0) throw new SpecError(src.syntaxIssues);
  const raw = src.data;
  if (!isPlain(raw)) {
    throw new SpecError([{ file: abs, line: 1, column: 1, path: '', message: 'the stack file must be a mapping with at least name: and services:' }]);
  }
  const findings: Finding[] = [];
  const shell = StackShell.safeParse(raw, { reportInput: true });
  if (!shell.success) findings.push(...fromZod(StackShell, shell.error.issues, []));

  const rawServices = isPlain(raw.services) ? raw.services : {};
  const names = Object.keys(rawServices);
  const env = selectEnvironment(raw.environments, names, opts.env);
  findings.push(...env.findings);

  const { kinds, checked, valid, sites, findings: serviceFindings } = validateServices(rawServices, env.services);
  findings.push(...serviceFindings);

  const secrets = readSecrets(raw.secrets, dir);
  const secretNames = new Set(isPlain(raw.secrets) ? Object.keys(raw.secrets) : []);
  const refs = checkReferences(sites, secretNames);
  findings.push(...refs.findings);
  findings.push(...checkPasswordSecrets(checked, secretNames));

  const routesPath: PathKey[] = env.routes ? ['environments', env.name, 'routes'] : ['routes'];
  const routes = placeRoutes(env.routes ?? raw.routes, routesPath);
  findings.push(...checkUses(checked, names), ...checkPorts(checked, kinds, routes), ...checkVolumes(checked));
  findings.push(...checkFiles(checked, secrets, dir));
  findings.push(...checkRuntimes(checked, shell.success ? shell.data.runtime : undefined, dir));
  findings.push(...pipelineFindings(raw));

  const edges: Edge[] = [...refs.edges];
  for (const s of checked) (s.spec.uses ?? []).forEach((to, i) => edges.push({ from: s.name, to, path: ['services', s.name, 'uses', i] }));
  const deps = dependencies(names, edges);
  findings.push(...findCycles(deps, edges));

  if (findings.length > 0) {
    const locate = (path: PathKey[], key: boolean) => src.locate(overridePath(env.name, path, (p) => src.has(p)) ?? path, key);
    throw new SpecError(toIssues(abs, findings, locate));
  }
  const services = topologicalOrder(deps).map((name) => ({
    name,
    kind: kinds.get(name) as ServiceKindName,
    spec: valid.get(name) as ServiceNode['spec'],
    deps: deps.get(name) ?? [],
  }));
  const name = shell.success ? shell.data.name : '';
  return { file: abs, dir, env: env.name, name, services, routes: routes.map((r) => r.route), secrets, requireRehearsal: env.requireRehearsal, pipeline: shell.success ? (shell.data.pipeline ?? null) : null, observability: shell.success ? observabilityOf(shell.data.observability) : null };
}

/** Merge each service with its override, pick its schema by kind key, validate; keep the valid keys of failures. */
function validateServices(rawServices: Record<string, unknown>, overrides: Record<string, Record<string, unknown>>) {
  const kinds = new Map<string, ServiceKindName | null>(Object.keys(rawServices).map((n) => [n, null]));
  const checked: CheckedService[] = [];
  const valid = new Map<string, ServiceNode['spec']>();
  const sites: ReferenceSite[] = [];
  const findings: Finding[] = [];
  for (const [name, base] of Object.entries(rawServices)) {
    if (name === 'secrets') findings.push({ path: ['services', name], message: 'the name "secrets" is reserved for ${secrets.NAME} references; rename the service' });
    if (!isPlain(base)) continue;
    const merged = overrides[name] ? deepMerge(base, overrides[name]) : base;
    const kind = kindOf(merged);
    kinds.set(name, kind);
    sites.push({ service: name, kind, values: referencingValues(name, merged) });
    if (!kind) {
      findings.push({ path: ['services', name], key: true, message: kindProblem(merged) });
      continue;
    }
    const schema = KIND_SCHEMAS[kind];
    const result = schema.safeParse(merged, { reportInput: true });
    if (result.success) valid.set(name, result.data);
    else findings.push(...fromZod(schema, result.error.issues, ['services', name]));
    checked.push({ name, kind, spec: result.success ? result.data : salvage(schema, merged) } as CheckedService);
  }
  return { kinds, checked, valid, sites, findings };
}

function kindProblem(service: Record<string, unknown>): string {
  const present = Object.keys(KIND_KEYS).filter((k) => k in service);
  const allowed = 'exactly one of run or image (app), postgres, etcd, cluster';
  if (present.length === 0) return `has no kind: give it ${allowed}; it has keys: ${Object.keys(service).join(', ') || 'none'}`;
  return `has several kinds (${present.join(', ')}): keep ${allowed}`;
}

/** The keys of a service that are valid on their own. */
function salvage(schema: z.ZodObject, service: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(schema.shape as Record<string, z.ZodType>)) {
    if (!(key in service)) continue;
    const r = field.safeParse(service[key]);
    if (r.success) out[key] = r.data;
  }
  return out;
}

function referencingValues(name: string, service: Record<string, unknown>): ReferenceSite['values'] {
  const out: ReferenceSite['values'] = [];
  if (typeof service.run === 'string') out.push({ path: ['services', name, 'run'], value: service.run });
  if (isPlain(service.cluster) && typeof service.cluster.command === 'string') out.push({ path: ['services', name, 'cluster', 'command'], value: service.cluster.command });
  if (isPlain(service.env)) {
    for (const [k, v] of Object.entries(service.env)) if (typeof v === 'string') out.push({ path: ['services', name, 'env', k], value: v });
  }
  return out;
}

function readSecrets(raw: unknown, dir: string): SecretRef[] {
  if (!isPlain(raw)) return [];
  const out: SecretRef[] = [];
  for (const [name, body] of Object.entries(raw)) {
    const r = SecretSource.safeParse(body);
    if (!r.success) continue;
    out.push(r.data.env !== undefined ? { name, env: r.data.env } : { name, file: resolve(dir, r.data.file as string) });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

function placeRoutes(raw: unknown, path: PathKey[]): PlacedRoute[] {
  if (!Array.isArray(raw)) return [];
  const out: PlacedRoute[] = [];
  raw.forEach((r, i) => {
    const parsed = RouteSpec.safeParse(r);
    if (parsed.success) out.push({ route: parsed.data, path: [...path, i] });
  });
  return out;
}
