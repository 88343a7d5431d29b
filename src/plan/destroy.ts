import type { ServiceRecord } from '../state/types.js';
import type { Plan, PlanStep } from './types.js';

export interface StateStoreView {
  serial: number;
  services: ServiceRecord[];
}

/** Plan to stop and forget every recorded service of an environment, dependants first. Pure. */
export function makeDestroyPlan(stack: string, env: string, stackFile: string, state: StateStoreView, order: string[], deleteVolumes: boolean): Plan {
  const rank = new Map(order.map((n, i) => [n, i]));
  const services = [...state.services].sort((a, b) => (rank.get(b.name) ?? -1) - (rank.get(a.name) ?? -1));
  const steps: PlanStep[] = [];
  for (const s of services) {
    steps.push({ name: `${s.name}:stop`, service: s.name, verb: 'stop', release: null, previous: s.currentRelease });
    steps.push({ name: `${s.name}:forget`, service: s.name, verb: 'forget', release: null, previous: s.currentRelease });
  }
  if (deleteVolumes) steps.push({ name: 'volumes:delete-volumes', service: '*', verb: 'delete-volumes', release: null, previous: null });
  return {
    format: 1,
    kind: 'destroy',
    stack,
    env,
    stackFile,
    serial: state.serial,
    changes: services.map((s) => ({
      service: s.name,
      kind: s.kind,
      action: 'destroy' as const,
      reasons: [deleteVolumes ? 'destroy --volumes' : 'destroy (volumes kept)'],
      from: s.currentRelease,
      to: null,
    })),
    steps,
    releases: {},
    routes: [],
    replicas: {},
    deleteVolumes,
  };
}
