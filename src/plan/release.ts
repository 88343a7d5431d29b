import { volumePathUnder, type VolumePlacement } from '../volumes/placement.js';
import { getKind } from '../kinds/registry.js';
import type { KindContext } from '../kinds/types.js';
import type { LoadedStack, ServiceNode } from '../spec/index.js';
import type { Deploy } from '../spec/schema.js';
import { parseDuration } from '../util/duration.js';
import { sha256, stableJson } from './hash.js';
import { resolveDraft, secretsUsed, type Attributes } from './resolve.js';
import type { DeployConfig, ReleaseConfig } from './types.js';

export interface ReleaseInputs {
  stack: LoadedStack;
  stateDir: string;
  ports: Record<string, number>;
  attrs: Attributes;
  artifact: string;
  secretDigests: Record<string, string>;
  volumes?: VolumeWhere;
}

export function volumePathOf(stateDir: string, env: string, volume: string): string {
  return volumePathUnder(stateDir, env, volume);
}

/**
 * Where each planned volume lives: a recorded volume stays where it is (its
 * data is there); a new one goes under the service's placement root when it
 * has one (a Symphony-owned root its server account can reach), else under
 * the state dir.
 */
export interface VolumeWhere {
  recorded: Record<string, string>;
  placements: Record<string, VolumePlacement>;
}

export function kindContext(node: ServiceNode, stack: LoadedStack, stateDir: string, ports: Record<string, number>, where?: VolumeWhere): KindContext {
  const spec = node.spec as Record<string, unknown> & { volume?: string };
  const root = where?.placements[node.name]?.root ?? stateDir;
  return {
    stack: stack.name,
    env: stack.env,
    service: node.name,
    spec,
    stackDir: stack.dir,
    volumePath: spec.volume ? (where?.recorded[spec.volume] ?? volumePathUnder(root, stack.env, spec.volume)) : null,
    ports,
    routed: stack.routes.some((r) => r.to === node.name),
  };
}

function deployConfig(d: Deploy | undefined, replaceMode: DeployConfig['replaceMode']): DeployConfig {
  const x = d ?? {};
  return {
    strategy: x.strategy ?? 'blue-green',
    replaceMode,
    drainMs: parseDuration(x.drain, 10_000),
    graceMs: parseDuration(x.grace, 10_000),
    warmMs: parseDuration(x.warm, 300_000),
    steps: x.steps ?? [10, 50, 100],
    pauseMs: parseDuration(x.pause, 0),
    maxUnavailable: x.max_unavailable ?? 0,
    maxSurge: x.max_surge ?? 1,
    sticky: x.strategy === 'canary' ? (x.sticky === 'none' ? null : (x.sticky ?? 'cookie')) : null,
    analysis:
      x.strategy === 'canary'
        ? {
            intervalMs: parseDuration(x.analysis?.interval, 10_000),
            maxErrorRate: x.analysis?.max_error_rate ?? 0.01,
            maxP99Ratio: x.analysis?.max_p99_ratio ?? 2,
            p99ToleranceMs: parseDuration(x.analysis?.p99_tolerance, 50),
            minRequests: x.analysis?.min_requests ?? 20,
          }
        : null,
  };
}

/** The release a service would get from the stack as written: config and deterministic id. Pure. */
/** `health` is the rule the release's health gate judges it by, for the plan. */
/** A release's id: `<service>-<8 hex>` of its environment and config (a rehearsal copy's releases get theirs the same way). */
export function releaseIdOf(env: string, config: ReleaseConfig): string {
  return `${config.service}-${sha256(env + '\n' + stableJson(config)).slice(0, 8)}`;
}

export function buildRelease(node: ServiceNode, inp: ReleaseInputs): { id: string; config: ReleaseConfig; health: string } {
  const kind = getKind(node.kind);
  const ctx = kindContext(node, inp.stack, inp.stateDir, inp.ports, inp.volumes);
  const drafts = kind.instances(ctx).map((d) => resolveDraft(d, inp.attrs, `services.${node.name}`));
  const generated = (kind.generatedSecrets?.(ctx) ?? []).map((s) => `${node.name}.${s}`);
  // Generated secrets (a database password) never change once made, so they do not count toward the release.
  const used = secretsUsed(drafts).filter((n) => !generated.includes(n) && !/^[a-z][a-z0-9-]*\.password$/.test(n));
  const spec = node.spec as Record<string, unknown> & { volume?: string; runtime?: string; deploy?: Deploy };
  const config: ReleaseConfig = {
    stack: inp.stack.name,
    stackDir: inp.stack.dir,
    service: node.name,
    kind: node.kind,
    runtime: spec.runtime ?? 'process',
    artifact: inp.artifact,
    instances: drafts,
    health: kind.health(ctx),
    deploy: deployConfig(spec.deploy, kind.replaceMode(ctx)),
    ports: inp.ports,
    volume: spec.volume ?? null,
    volumePath: ctx.volumePath,
    secretDigests: Object.fromEntries(used.map((n) => [n, inp.secretDigests[n] ?? 'unset'])),
    generatedSecrets: generated,
    spec: stripReplicas(spec),
  };
  return { id: releaseIdOf(inp.stack.env, config), config, health: kind.healthRule(ctx, config.health).rule };
}

function stripReplicas(spec: Record<string, unknown>): Record<string, unknown> {
  const { replicas: _r, ...rest } = spec;
  return rest;
}

/** Why `next` replaces `prev`: names of what changed, never values. */
export function releaseReasons(prev: ReleaseConfig, next: ReleaseConfig): string[] {
  const reasons: string[] = [];
  const short = (a: string): string => (a.startsWith('sha256:') ? a.slice(7, 19) : a.slice(0, 8));
  if (prev.artifact !== next.artifact) reasons.push(`${next.artifact.startsWith('sha256:') ? 'image' : 'files'} changed (${short(prev.artifact)} -> ${short(next.artifact)})`);
  if (prev.runtime !== next.runtime) reasons.push(`runtime ${prev.runtime} -> ${next.runtime}`);
  const a = prev.instances;
  const b = next.instances;
  if (a.length !== b.length) reasons.push(`members ${a.length} -> ${b.length}`);
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i].command !== b[i].command) reasons.push(`command of ${b[i].ordinal} changed`);
    if (a[i].cwd !== b[i].cwd) reasons.push(`dir changed`);
    const keys = new Set([...Object.keys(a[i].env), ...Object.keys(b[i].env)]);
    for (const k of [...keys].sort()) if (a[i].env[k] !== b[i].env[k]) reasons.push(`env ${k} changed`);
  }
  for (const [n, d] of Object.entries(next.secretDigests)) if (prev.secretDigests[n] !== d) reasons.push(`secret ${n} changed`);
  if (stableJson(prev.health) !== stableJson(next.health)) reasons.push('health check changed');
  if (stableJson(prev.deploy) !== stableJson(next.deploy)) reasons.push('deploy settings changed');
  if (stableJson(prev.ports) !== stableJson(next.ports)) reasons.push('ports changed');
  if (prev.volume !== next.volume) reasons.push(`volume ${prev.volume ?? '(none)'} -> ${next.volume ?? '(none)'}`);
  if (reasons.length === 0) reasons.push('configuration changed');
  return [...new Set(reasons)];
}
