import { Command } from 'commander';

type Register = (program: Command) => void;

const VERSION = '0.1.0';

/** Each verb's module, loaded only when that verb runs: `plan` never loads the router, pg or the SQL parser. */
const VERBS: Record<string, () => Promise<Register>> = {
  init: async () => (await import('./verbs/init.js')).registerInit,
  validate: async () => (await import('./verbs/validate.js')).registerValidate,
  schema: async () => (await import('./verbs/validate.js')).registerValidate,
  plan: async () => (await import('./verbs/plan.js')).registerPlan,
  apply: async () => (await import('./verbs/apply.js')).registerApply,
  attach: async () => (await import('./verbs/apply.js')).registerApply,
  status: async () => (await import('./verbs/status.js')).registerStatus,
  output: async () => (await import('./verbs/output.js')).registerOutput,
  logs: async () => (await import('./verbs/logs.js')).registerLogs,
  drift: async () => (await import('./verbs/drift.js')).registerDrift,
  destroy: async () => (await import('./verbs/destroy.js')).registerDestroy,
  unlock: async () => (await import('./verbs/unlock.js')).registerUnlock,
  rollback: async () => (await import('./verbs/rollback.js')).registerRollback,
  events: async () => (await import('./verbs/events.js')).registerEvents,
  history: async () => (await import('./verbs/history.js')).registerHistory,
  pause: async () => (await import('./verbs/pause.js')).registerPause,
  resume: async () => (await import('./verbs/pause.js')).registerPause,
  agent: async () => (await import('./verbs/daemons.js')).registerDaemons,
  router: async () => (await import('./verbs/daemons.js')).registerDaemons,
  migrate: async () => (await import('./verbs/migrate.js')).registerMigrate,
  rehearse: async () => (await import('./verbs/rehearse.js')).registerRehearse,
  pipeline: async () => (await import('./verbs/pipeline.js')).registerPipeline,
  backup: async () => (await import('./verbs/backup.js')).registerBackup,
  restore: async () => (await import('./verbs/restore.js')).registerRestore,
  scale: async () => (await import('./verbs/scale.js')).registerScale,
  metrics: async () => (await import('./verbs/metrics.js')).registerMetrics,
  image: async () => (await import('./verbs/image.js')).registerImage,
};

/** Parse the command line and run the verb it names, loading only that verb's module. */
export async function main(argv: string[] = process.argv): Promise<void> {
  const program = new Command('symphony')
    .description('Deliver a stack of services and change it with zero downtime and zero lost data.')
    .version(VERSION);
  const args = argv.slice(2);
  // `--version` alone needs no verb; `--help` and no verb at all list every verb, so load them all.
  if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
    process.stdout.write(VERSION + '\n');
    return;
  }
  const verb = args.find((a) => !a.startsWith('-'));
  const wanted = verb && VERBS[verb] ? [VERBS[verb]] : Object.values(VERBS);
  const registered = new Set<Register>();
  for (const load of wanted) {
    const register = await load();
    if (!registered.has(register)) register(program);
    registered.add(register);
  }
  await program.parseAsync(argv);
}

