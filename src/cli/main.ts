#!/usr/bin/env node
import { Command } from 'commander';

type Register = (program: Command) => void;

/** Each verb's module, loaded only when that verb runs: `plan` never loads the router, pg or the SQL parser. */
const VERBS: Record<string, () => Promise<Register>> = {
  init: async () => (await import('./verbs/init.js')).registerInit,
  validate: async () => (await import('./verbs/validate.js')).registerValidate,
  schema: async () => (await import('./verbs/validate.js')).registerValidate,
  plan: async () => (await import('./verbs/plan.js')).registerPlan,
  apply: async () => (await import('./verbs/apply.js')).registerApply,
  attach: async () => (await import('./verbs/apply.js')).registerApply,
  status: async () => (await import('./verbs/status.js')).registerStatus,
  logs: async () => (await import('./verbs/logs.js')).registerLogs,
  drift: async () => (await import('./verbs/drift.js')).registerDrift,
  destroy: async () => (await import('./verbs/destroy.js')).registerDestroy,
  unlock: async () => (await import('./verbs/unlock.js')).registerUnlock,
  rollback: async () => (await import('./verbs/rollback.js')).registerRollback,
  history: async () => (await import('./verbs/history.js')).registerHistory,
  pause: async () => (await import('./verbs/pause.js')).registerPause,
  resume: async () => (await import('./verbs/pause.js')).registerPause,
  agent: async () => (await import('./verbs/daemons.js')).registerDaemons,
  router: async () => (await import('./verbs/daemons.js')).registerDaemons,
  migrate: async () => (await import('./verbs/migrate.js')).registerMigrate,
  rehearse: async () => (await import('./verbs/rehearse.js')).registerRehearse,
};

const program = new Command('symphony')
  .description('Deliver a stack of services and change it with zero downtime and zero lost data.')
  .version('0.1.0');

const verb = process.argv.slice(2).find((a) => !a.startsWith('-'));
const wanted = verb && VERBS[verb] ? [VERBS[verb]] : Object.values(VERBS);
const registered = new Set<Register>();
for (const load of wanted) {
  const register = await load();
  if (!registered.has(register)) register(program);
  registered.add(register);
}

await program.parseAsync(process.argv);
