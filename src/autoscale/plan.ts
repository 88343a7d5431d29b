import type { Plan, ReleaseConfig } from '../plan/types.js';
import type { OperationRecord, ServiceRecord } from '../state/types.js';

export interface ScalePlanInput {
  stack: string;
  env: string;
  stackFile: string;
  serial: number;
  service: ServiceRecord;
  config: ReleaseConfig;
  from: number;
  to: number;
  /** Who asked and why: `cpu 84%, 79% > 70%`, or `symphony scale`. */
  reason: string;
}

/**
 * The plan of one scaling of an app's live release: start the new replicas
 * and wait until they are healthy before the route gets them, or take the
 * removed ones off the route and let them drain before they stop (the
 * `scale` step), then the health gate. The plan carries no routes: the step
 * changes only the upstreams of the routes that already send to the release.
 * Pure.
 */
export function makeScalePlan(inp: ScalePlanInput): Plan {
  const name = inp.service.name;
  const release = inp.service.currentRelease;
  if (!release) throw new Error(`${name} has no live release to scale`);
  return {
    format: 1,
    kind: 'scale',
    stack: inp.stack,
    env: inp.env,
    stackFile: inp.stackFile,
    serial: inp.serial,
    changes: [{ service: name, kind: inp.config.kind, action: 'update', reasons: [`scale ${inp.from} → ${inp.to}: ${inp.reason}`], from: release, to: release }],
    steps: [
      { name: `${name}:scale`, service: name, verb: 'scale', release, previous: null, replicas: inp.to, replicasBefore: inp.from },
      { name: `${name}:health`, service: name, verb: 'health', release, previous: null },
    ],
    releases: {},
    routes: [],
    replicas: { [name]: inp.to },
  };
}

/** Stack name and stack file of an environment, from its newest operation that carried them. */
export function stackOfEnv(ops: OperationRecord[]): { stack: string; stackFile: string } | null {
  for (const op of ops) {
    const p = op.plan as Partial<Plan> | null;
    if (p?.stack && p.stackFile) return { stack: p.stack, stackFile: p.stackFile };
  }
  return null;
}
