import type { Command } from 'commander';
import { formatFindings, lintFiles } from '../../migrate/lint/index.js';
import { loadMigrations } from '../../migrate/load.js';
import { MigrationTargetError } from '../../migrate/cli/errors.js';
import { renderComplete, renderRollback, renderStart, renderStatus, statusView } from '../../migrate/cli/render.js';
import { migrationsDirOf, pickPostgresService, recordEvent, resolveTarget, withEngine, type MigrationTarget } from '../../migrate/cli/target.js';
import { chooseStart, migrationRows } from '../../migrate/cli/versions.js';
import type { Migration } from '../../migrate/operations.js';
import { loadStack, type LoadedStack } from '../../spec/index.js';
import { action, print, requireStack, stateDirOf, withCommon, type GlobalOptions } from '../common.js';

interface MigrateOptions extends GlobalOptions {
  service?: string;
}

interface Context {
  stateDir: string;
  stack: LoadedStack;
  target: MigrationTarget;
  pool: ReturnType<typeof resolveTarget>['pool'];
}

function contextOf(o: MigrateOptions): Context {
  const stack = loadStack(requireStack(o), { env: o.env });
  const stateDir = stateDirOf(o);
  return { stateDir, stack, ...resolveTarget(stateDir, stack, o.service) };
}

function filesOf(t: MigrationTarget): { dir: string; files: Migration[] } {
  if (!t.migrationsDir) {
    throw new MigrationTargetError(`service ${t.service} has no migrations directory`, `add \`migrations: ./migrations\` to services.${t.service} in the stack file`);
  }
  return { dir: t.migrationsDir, files: loadMigrations(t.migrationsDir) };
}

function subcommand(parent: Command, spec: string, description: string): Command {
  return withCommon(parent.command(spec).description(description)).option('-s, --service <name>', 'postgres service (default: the only one in the stack)');
}

/** `symphony migrate status|start|complete|rollback|lint`: expand/contract schema migrations of a postgres service. */
export function registerMigrate(program: Command): void {
  const migrate = program.command('migrate').description('zero-downtime schema migrations of a postgres service (expand/contract)');

  subcommand(migrate, 'status', 'migration files and what the database recorded: pending, in flight, complete, rolled back').action(
    action(async (o: MigrateOptions) => {
      const c = contextOf(o);
      const files = c.target.migrationsDir ? loadMigrations(c.target.migrationsDir) : [];
      const st = await withEngine(c.target, c.pool, (e) => e.status());
      const view = statusView(c.target, st.current, st.inFlight?.name ?? null, migrationRows(files, st));
      print(o, renderStatus(view), view);
    }),
  );

  subcommand(migrate, 'start [version]', 'expand: create the next (or the named) version as a schema of views and backfill it').action(
    action(async (version: string | undefined, o: MigrateOptions) => {
      const c = contextOf(o);
      const { dir, files } = filesOf(c.target);
      const result = await withEngine(c.target, c.pool, async (e) => e.start(chooseStart(files, await e.status(), dir, version)), { roles: true });
      recordEvent(c.stateDir, c.target, `migration ${result.version} ${result.resumed ? 'resumed' : 'started'} (schema ${result.schema})`);
      print(o, renderStart(c.target, result), { target: c.target, ...result });
    }),
  );

  subcommand(migrate, 'complete', 'contract: drop the old version once no release uses it').action(
    action(async (o: MigrateOptions) => {
      const c = contextOf(o);
      const result = await withEngine(c.target, c.pool, (e) => e.complete(), { roles: true });
      recordEvent(c.stateDir, c.target, `migration ${result.version} complete (schema ${result.schema})`);
      print(o, renderComplete(c.target, result), { target: c.target, ...result });
    }),
  );

  subcommand(migrate, 'rollback', 'undo the in-flight migration, keeping what the new version wrote').action(
    action(async (o: MigrateOptions) => {
      const c = contextOf(o);
      const result = await withEngine(c.target, c.pool, (e) => e.rollback(), { roles: true });
      recordEvent(c.stateDir, c.target, `migration ${result.version} rolled back; kept: ${result.movedAside.map((m) => m.to).join(', ') || 'nothing'}`);
      print(o, renderRollback(c.target, result), { target: c.target, ...result });
    }),
  );

  subcommand(migrate, 'lint [files...]', "flag locking hazards in raw SQL (default: the service's migrations directory)").action(
    action(async (paths: string[], o: MigrateOptions) => {
      let inputs = paths;
      if (inputs.length === 0) {
        const stack = loadStack(requireStack(o), { env: o.env });
        const svc = pickPostgresService(stack, o.service);
        const dir = migrationsDirOf(stack, svc);
        if (!dir) throw new MigrationTargetError(`service ${svc.name} has no migrations directory`, 'name files to lint: symphony migrate lint <file>...');
        inputs = [dir];
      }
      const findings = await lintFiles(inputs);
      const errors = findings.filter((f) => f.severity === 'error').length;
      print(o, formatFindings(findings).trimEnd(), { files: inputs, errors, warnings: findings.length - errors, findings });
      return errors > 0 ? 1 : 0;
    }),
  );
}

