import { SymphonyError } from '../errors.js';
import type { ReleaseRecord, ServiceRecord } from '../state/types.js';
import type { Plan, PlanRoute, PlanStep, ReleaseConfig } from './types.js';

export interface RollbackInput {
  stack: string;
  env: string;
  stackFile: string;
  serial: number;
  service: ServiceRecord;
  /** Every recorded release of the service, newest first. */
  releases: ReleaseRecord[];
  /** Release to go back to; default: the service's previous release. */
  to?: string;
  routes: PlanRoute[];
  /** Running instances per release id. */
  running: Record<string, number>;
  replicas: number;
  /** Digest of the app's files as they are on disk now (apps only). */
  currentArtifact?: string;
  /** Digests whose copy of the files is kept under the state dir (releases run from it). */
  keptArtifacts?: string[];
}

export class RollbackError extends SymphonyError {
  override readonly code: string = 'rollback';
}

/**
 * Plan a rollback of one service: back to a warm release it is an instant
 * switch (after the same health gate as a deploy); back to a stopped one it
 * is a blue-green deploy of that release. Pure.
 */
export function makeRollbackPlan(inp: RollbackInput): Plan {
  const { service } = inp;
  const current = service.currentRelease;
  const targetId = inp.to ?? service.previousRelease ?? inp.releases.find((r) => r.id !== current && r.status !== 'failed')?.id;
  if (!current) throw new RollbackError(`${service.name} has no live release`, 'deploy it first: symphony apply');
  if (!targetId) throw new RollbackError(`${service.name} has no earlier release to roll back to`, `see its releases: symphony history ${service.name}`);
  if (targetId === current) throw new RollbackError(`${targetId} is already live`, `pick another: symphony history ${service.name}`);
  const target = inp.releases.find((r) => r.id === targetId);
  if (!target) throw new RollbackError(`${service.name} has no release ${targetId}`, `see its releases: symphony history ${service.name}`);
  const cfg = target.config as ReleaseConfig;
  const warm = (inp.running[targetId] ?? 0) > 0;
  if (cfg.kind !== 'app') throw new RollbackError(`rollback of ${cfg.kind} services is not supported; change the stack file and apply`, 'edit the stack file back, then: symphony apply');
  const kept = inp.keptArtifacts?.includes(cfg.artifact) ?? false;
  if (!warm && !kept && inp.currentArtifact !== undefined && inp.currentArtifact !== cfg.artifact) {
    throw new RollbackError(
      `${targetId} is no longer warm, its copy of the files is gone, and its files differ from what is on disk now (${cfg.artifact.slice(0, 8)} vs ${inp.currentArtifact.slice(0, 8)})`,
      `put its files back (e.g. git checkout) and run symphony apply, or roll back within the warm window next time (deploy.warm)`,
    );
  }
  const step = (verb: PlanStep['verb']): PlanStep => ({ name: `${service.name}:${verb}`, service: service.name, verb, release: targetId, previous: current });
  const steps = warm ? [step('health'), step('switch'), step('drain'), step('stop-old')] : [step('start'), step('health'), step('switch'), step('drain'), step('stop-old')];
  return {
    format: 1,
    kind: 'rollback',
    stack: inp.stack,
    env: inp.env,
    stackFile: inp.stackFile,
    serial: inp.serial,
    changes: [{ service: service.name, kind: cfg.kind, action: 'replace', reasons: [warm ? `roll back to warm ${targetId}` : `roll back to ${targetId} (cold start)`], from: current, to: targetId }],
    steps,
    releases: {},
    routes: inp.routes.filter((r) => r.service === service.name),
    replicas: { [service.name]: inp.replicas },
  };
}
