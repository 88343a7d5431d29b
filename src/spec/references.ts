import type { Edge } from './graph.js';
import type { Finding } from './issues.js';
import type { PathKey } from './source.js';

export type ServiceKindName = 'app' | 'postgres' | 'etcd' | 'cluster';

/** `${db.url}` -> `{ raw: '${db.url}', service: 'db', attr: 'url' }`; secrets use the service `secrets`. */
export interface Reference {
  raw: string;
  service: string;
  attr: string;
}

/** What dependants may reference, per kind: `${db.url}`, `${kv.endpoints}`. */
export const KIND_ATTRIBUTES: Record<ServiceKindName, readonly string[]> = {
  app: ['url', 'host', 'port'],
  postgres: ['url', 'host', 'port', 'user', 'database', 'password'],
  etcd: ['endpoints'],
  cluster: ['endpoints'],
};

/** The key that decides a service's kind. */
export const KIND_KEYS: Record<string, ServiceKindName> = { run: 'app', image: 'app', postgres: 'postgres', etcd: 'etcd', cluster: 'cluster' };

/** The kind of a raw service section by its kind key; null when it has none or several. */
export function kindOf(service: Record<string, unknown>): ServiceKindName | null {
  const kinds = Object.keys(KIND_KEYS)
    .filter((k) => k in service)
    .map((k) => KIND_KEYS[k]);
  const distinct = [...new Set(kinds)];
  return distinct.length === 1 ? distinct[0] : null;
}

const PLACEHOLDER = /\$\{([^}]*)\}/g;
const WELL_FORMED = /^(secrets|[a-z][a-z0-9-]*)\.([A-Za-z_][A-Za-z0-9_]*)$/;

/** Every well-formed `${service.attr}` / `${secrets.NAME}` in a string, in order of appearance. */
export function findReferences(value: string): Reference[] {
  const out: Reference[] = [];
  for (const m of value.matchAll(PLACEHOLDER)) {
    const inner = WELL_FORMED.exec(m[1].trim());
    if (inner) out.push({ raw: m[0], service: inner[1], attr: inner[2] });
  }
  return out;
}

/** `${x.y}`-like placeholders that are not references; `${PORT}` without a dot is left to the shell. */
function malformed(value: string): string[] {
  return [...value.matchAll(PLACEHOLDER)].filter((m) => m[1].includes('.') && !WELL_FORMED.test(m[1].trim())).map((m) => m[0]);
}

/** A service as the reference check sees it: its kind (null when unknown) and its referencing strings. */
export interface ReferenceSite {
  service: string;
  kind: ServiceKindName | null;
  /** Strings that may hold references, with the path each one sits at. */
  values: { path: PathKey[]; value: string }[];
}

/** Check every reference of every service; returns findings and, per service, the services it references. */
export function checkReferences(
  sites: readonly ReferenceSite[],
  secrets: ReadonlySet<string>,
): { findings: Finding[]; edges: Edge[] } {
  const kinds = new Map(sites.map((s) => [s.service, s.kind]));
  const findings: Finding[] = [];
  const edges: Edge[] = [];
  const known = [...kinds.keys()].sort().join(', ');
  for (const site of sites) {
    for (const { path, value } of site.values) {
      for (const raw of malformed(value)) {
        findings.push({ path, message: `malformed reference ${raw}: write \${service.attribute} or \${secrets.NAME}` });
      }
      for (const ref of findReferences(value)) {
        const msg = problem(site.service, ref, kinds, secrets, known);
        if (msg) findings.push({ path, message: msg });
        else if (ref.service !== 'secrets') edges.push({ from: site.service, to: ref.service, path });
      }
    }
  }
  return { findings, edges };
}

function problem(
  self: string,
  ref: Reference,
  kinds: ReadonlyMap<string, ServiceKindName | null>,
  secrets: ReadonlySet<string>,
  known: string,
): string | null {
  if (ref.service === 'secrets') {
    if (secrets.has(ref.attr)) return null;
    const declared = [...secrets].sort().join(', ');
    return `${ref.raw} names a secret that is not declared under secrets: (declared: ${declared || 'none'}); add secrets.${ref.attr}: { env: ${ref.attr} }`;
  }
  if (ref.service === self) return `${ref.raw} references the service itself; a service cannot depend on its own attributes`;
  if (!kinds.has(ref.service)) return `${ref.raw} references unknown service "${ref.service}"; services are: ${known}`;
  const kind = kinds.get(ref.service);
  if (!kind) return null;
  const attrs = KIND_ATTRIBUTES[kind];
  if (attrs.includes(ref.attr)) return null;
  return `${ref.raw}: ${kind} service "${ref.service}" has no attribute "${ref.attr}"; it has: ${attrs.join(', ')}`;
}
