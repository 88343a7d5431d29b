import { join } from 'node:path';
import { asServerUser } from '../../kinds/postgres/server-user.js';
import { run, type RunResult } from '../../util/exec.js';
import { BackupError } from '../errors.js';
import type { BackupLayout } from '../layout.js';
import type { Backup, BackupInfo, BackupType, RestoreTarget } from '../types.js';
import { pgbackrestArgs } from './config.js';
import { parseInfo } from './info.js';

const BIN = process.env.SYMPHONY_PGBACKREST ?? 'pgbackrest';

/** An ISO time as pgBackRest reads a target (`2026-12-03 18:30:37.486+00`), keeping every digit given. Pure. */
export function pgTime(iso: string): string {
  return iso.trim().replace('T', ' ').replace(/Z$/i, '+00');
}

/**
 * pgBackRest for one postgres service. Every command runs as the server's OS
 * account (it owns the data directory and the repository) with the config
 * Symphony wrote (src/kinds/postgres/archive.ts); the superuser password goes
 * through PGPASSWORD and is cut out of any message.
 */
export class PgBackRest implements Backup {
  readonly engine = 'pgbackrest' as const;

  constructor(
    private readonly layout: BackupLayout,
    private readonly password: string,
  ) {}

  private async exec(command: string, args: string[] = [], timeoutMs = 3_600_000): Promise<RunResult> {
    const [cmd, argv] = asServerUser(BIN, pgbackrestArgs(this.layout, command, args));
    return run(cmd, argv, { env: { ...process.env, PGPASSWORD: this.password, LC_ALL: 'C.UTF-8' }, timeoutMs });
  }

  private async must(command: string, args: string[] = [], hint?: string): Promise<RunResult> {
    const res = await this.exec(command, args);
    if (res.code !== 0) {
      const raw = (res.stderr.trim() || res.stdout.trim()).split('\n').slice(0, 6).join(' ');
      const why = this.password ? raw.split(this.password).join('(secret)') : raw;
      throw new BackupError(
        this.layout.service,
        `pgbackrest ${command} failed (exit ${res.code}): ${why}`,
        hint ?? `run it by hand to see more: ${[BIN, ...pgbackrestArgs(this.layout, command, args)].join(' ')}`,
      );
    }
    return res;
  }

  async init(): Promise<void> {
    await this.must('stanza-create', [], `check that ${this.layout.service} runs (symphony status) and that ${this.layout.repoPath} is writable`);
  }

  async list(): Promise<BackupInfo[]> {
    const res = await this.must('info', ['--output=json']);
    return parseInfo(res.stdout, this.layout.stanza).backups;
  }

  async walRange(): Promise<{ min: string; max: string } | null> {
    const res = await this.must('info', ['--output=json']);
    return parseInfo(res.stdout, this.layout.stanza).wal;
  }

  async take(type: BackupType): Promise<BackupInfo> {
    const before = new Set((await this.list()).map((b) => b.id));
    await this.must('backup', [`--type=${type}`]);
    const made = (await this.list()).filter((b) => !before.has(b.id));
    if (made.length !== 1) throw new BackupError(this.layout.service, `pgbackrest backup succeeded but ${made.length} new backups are listed`, 'look at: symphony backup list');
    return made[0];
  }

  async expire(ids: string[]): Promise<void> {
    // Expiring a full takes its diffs and incrs with it: skip ids already gone.
    for (const id of ids) {
      if ((await this.list()).some((b) => b.id === id)) await this.must('expire', [`--set=${id}`]);
    }
    // `--set` leaves the WAL: expire again with the count of fulls that stay, which keeps every
    // backup and removes the WAL older than the oldest of them.
    const fulls = (await this.list()).filter((b) => b.type === 'full').length;
    if (ids.length > 0 && fulls > 0) await this.must('expire', [`--repo1-retention-full=${fulls}`]);
  }

  async restoreInto(dataDir: string, target: RestoreTarget): Promise<void> {
    const args =
      'time' in target
        ? ['--type=time', `--target=${pgTime(target.time)}`, '--target-action=promote']
        : [`--set=${target.backup}`, '--type=immediate', '--target-action=promote'];
    await this.must('restore', [`--pg1-path=${dataDir}`, ...args]);
  }

  async flush(): Promise<void> {
    await this.must('check', [], `the server must run and archive WAL: look at ${join(this.layout.dir, 'log')} and the server's log (symphony logs ${this.layout.service})`);
  }
}
