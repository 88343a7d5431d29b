import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { describeError, SymphonyError } from '../errors.js';

export interface GlobalOptions {
  file: string;
  env?: string;
  stateDir?: string;
  json?: boolean;
}

/** Options every verb accepts. */
export function withCommon(cmd: Command): Command {
  return cmd
    .option('-f, --file <path>', 'stack file', process.env.SYMPHONY_FILE ?? 'symphony.yaml')
    .option('-e, --env <name>', 'environment (default: the base stack)')
    .option('--state-dir <dir>', 'state directory (default: .symphony next to the stack file, or $SYMPHONY_STATE_DIR)')
    .option('--json', 'machine-readable output');
}

export function stackFile(o: GlobalOptions): string {
  return resolve(o.file);
}

export function stateDirOf(o: GlobalOptions): string {
  if (o.stateDir) return resolve(o.stateDir);
  if (process.env.SYMPHONY_STATE_DIR) return resolve(process.env.SYMPHONY_STATE_DIR);
  return join(dirname(stackFile(o)), '.symphony');
}

export function envOf(o: GlobalOptions): string {
  return o.env ?? 'default';
}

export function print(o: { json?: boolean }, human: string, data: unknown): void {
  process.stdout.write(o.json ? JSON.stringify(data, null, 2) + '\n' : human + (human.endsWith('\n') ? '' : '\n'));
}

/** Run a verb: errors are printed with their hint and map to exit code 1. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<number | void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const last = args[args.length - 1] as Command | undefined;
    const opts = typeof last?.opts === 'function' ? (last.opts() as { json?: boolean }) : undefined;
    try {
      const code = await fn(...args);
      process.exitCode = code ?? 0;
    } catch (err) {
      const e = describeError(err);
      if (opts?.json) process.stdout.write(JSON.stringify(e, null, 2) + '\n');
      else process.stderr.write(`error: ${e.error}\n${e.hint ? `next: ${e.hint}\n` : ''}`);
      process.exitCode = 1;
    }
  };
}

export function requireStack(o: GlobalOptions): string {
  const f = stackFile(o);
  if (!existsSync(f)) throw new SymphonyError(`no stack file at ${f}`, 'create one with: symphony init, or point at one with -f <file>');
  return f;
}
