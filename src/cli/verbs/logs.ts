import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { logDirOf } from '../../apply/context.js';
import { NotFoundError } from '../../errors.js';
import { MASK, SecretVault } from '../../secrets/vault.js';
import { StateStore } from '../../state/store.js';
import { action, envOf, stateDirOf, withCommon, type GlobalOptions } from '../common.js';

interface LogsOptions extends GlobalOptions {
  follow?: boolean;
  lines?: string;
}

function readFrom(file: string, offset: number): { text: string; end: number } {
  const size = statSync(file).size;
  const start = size < offset ? 0 : offset;
  if (size === start) return { text: '', end: start };
  const buf = Buffer.alloc(size - start);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, buf, 0, buf.length, start);
  } finally {
    closeSync(fd);
  }
  return { text: buf.toString('utf8'), end: size };
}

export function registerLogs(program: Command): void {
  withCommon(program.command('logs <service>').description("print a service's instance logs (secret values masked)"))
    .option('-F, --follow', 'keep printing new lines')
    .option('-n, --lines <n>', 'lines of history per instance', '100')
    .action(
      action(async (service: string, o: LogsOptions) => {
        const stateDir = stateDirOf(o);
        const store = new StateStore(stateDir);
        const env = envOf(o);
        const secrets = new SecretVault(store).values(env).filter((v) => v.length >= 4);
        const mask = (t: string): string => secrets.reduce((acc, s) => acc.split(s).join(MASK), t);
        const instances = (): string[] => store.instances(env, { service, live: true }).map((i) => i.id);
        if (!store.service(env, service)) throw new NotFoundError(`no service ${service} recorded in environment ${env}`, 'see what exists with: symphony status');
        const offsets = new Map<string, number>();
        const emit = (id: string, text: string): void => {
          for (const line of text.split('\n')) if (line) process.stdout.write(`${id} | ${mask(line)}\n`);
        };
        for (const id of instances()) {
          const file = `${logDirOf(stateDir)}/${id}.log`;
          if (!existsSync(file)) continue;
          const { text, end } = readFrom(file, 0);
          emit(id, text.split('\n').slice(-Number(o.lines) - 1).join('\n'));
          offsets.set(id, end);
        }
        while (o.follow) {
          await sleep(250);
          for (const id of instances()) {
            const file = `${logDirOf(stateDir)}/${id}.log`;
            if (!existsSync(file)) continue;
            const { text, end } = readFrom(file, offsets.get(id) ?? 0);
            emit(id, text);
            offsets.set(id, end);
          }
        }
        store.close();
      }),
    );
}
