import { computePlan } from '../../cli/planning.js';
import { rehearse } from '../../rehearse/index.js';
import { interrupted, type StageExecutor } from './types.js';

/**
 * `rehearse: <env>`: the change this run would make to the environment,
 * with its built artifacts, applied to a throwaway copy first (the existing
 * rehearsal: copy, apply, smoke checks, teardown). A pass is recorded by plan
 * digest, so an environment with require_rehearsal accepts the deploy.
 */
export const rehearseStage: StageExecutor = async (r) => {
  if (r.resumed) return interrupted(r);
  const env = r.config.rehearse as string;
  const { plan, secrets } = await computePlan(r.stackFile, env === 'default' ? undefined : env, r.host.deps.stateDir, undefined, r.built);
  if (plan.steps.length === 0) return { status: 'succeeded', detail: `no change to rehearse: ${env} already runs this commit` };
  const report = await rehearse({ stateDir: r.host.deps.stateDir, plan, secrets, quiet: true, progress: (line) => r.io.log(line) });
  r.save({ rehearsal: report.id, passed: report.passed, leftovers: report.leftovers });
  if (report.passed) return { status: 'succeeded', detail: `rehearsal ${report.id} of ${env} passed (plan ${report.digest})` };
  return { status: 'failed', detail: `rehearsal ${report.id} of ${env} failed${report.error ? ` at ${report.error.stage}: ${report.error.message}` : ''}` };
};
