import type { Finding } from './issues.js';
import type { PathKey } from './source.js';

/** The environment used when none is chosen: the base file as written. */
export const DEFAULT_ENV = 'default';

type Plain = Record<string, unknown>;

export function isPlain(v: unknown): v is Plain {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Deep merge of an override over a base: mappings merge key by key, lists and
 * scalars replace, and `null` in the override removes the key.
 */
export function deepMerge(base: Plain, override: Plain): Plain {
  const out: Plain = { ...base };
  for (const [k, v] of Object.entries(override)) {
    if (v === null) delete out[k];
    else if (isPlain(v) && isPlain(out[k])) out[k] = deepMerge(out[k] as Plain, v);
    else out[k] = v;
  }
  return out;
}

/** What the chosen environment changes, read from the raw (not yet validated) file. */
export interface EnvironmentOverride {
  name: string;
  services: Record<string, Plain>;
  routes: unknown[] | undefined;
  requireRehearsal: boolean;
  findings: Finding[];
}

/** Select the environment `name` (or the default) from the raw `environments:` section. */
export function selectEnvironment(environments: unknown, services: readonly string[], name?: string): EnvironmentOverride {
  const envs = isPlain(environments) ? environments : {};
  const reserved: Finding[] =
    DEFAULT_ENV in envs
      ? [{ path: ['environments', DEFAULT_ENV], key: true, message: `"${DEFAULT_ENV}" is reserved for the file as written (no --env); rename this environment` }]
      : [];
  const none: EnvironmentOverride = { name: name ?? DEFAULT_ENV, services: {}, routes: undefined, requireRehearsal: false, findings: reserved };
  if (name === undefined || name === DEFAULT_ENV) return none;
  const known = Object.keys(envs).sort();
  const section = envs[name];
  if (!(name in envs)) {
    const message = known.length
      ? `unknown environment "${name}"; the stack file defines: ${known.join(', ')}`
      : `unknown environment "${name}"; the stack file defines no environments (add environments.${name}: {})`;
    return { ...none, findings: [...reserved, { path: ['environments'], message }] };
  }
  if (!isPlain(section)) return none;
  const findings: Finding[] = [...reserved];
  const overrides: Record<string, Plain> = {};
  const raw = isPlain(section.services) ? section.services : {};
  for (const [svc, body] of Object.entries(raw)) {
    if (!services.includes(svc)) {
      findings.push({
        path: ['environments', name, 'services', svc],
        message: `overrides unknown service "${svc}"; services are: ${[...services].sort().join(', ')}`,
      });
    } else if (isPlain(body)) overrides[svc] = body;
  }
  return {
    name,
    services: overrides,
    routes: Array.isArray(section.routes) ? section.routes : undefined,
    requireRehearsal: section.require_rehearsal === true,
    findings,
  };
}

/**
 * Where a path inside a merged service points in the file: at the override
 * when the override sets that exact path (below the service itself), else undefined.
 */
export function overridePath(env: string, path: readonly PathKey[], inOverride: (p: PathKey[]) => boolean): PathKey[] | undefined {
  if (env === DEFAULT_ENV || path[0] !== 'services' || path.length < 3) return undefined;
  const candidate: PathKey[] = ['environments', env, ...path];
  return inOverride(candidate) ? candidate : undefined;
}
