import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { SymphonyError } from '../../errors.js';
import { headOf, repoOf } from '../../pipeline/git.js';
import type { RunRecord } from '../../pipeline/types.js';
import { parseDuration } from '../../util/duration.js';
import { run as exec } from '../../util/exec.js';
import { ensureAgent } from '../agent-client.js';
import { action, print, requireStack, stateDirOf, withCommon, type GlobalOptions } from '../common.js';

interface WatchOptions extends GlobalOptions {
  interval: string;
  ref: string;
  once?: boolean;
  kind: string;
}

const HOOK_MARK = '# symphony pipeline hook';

/** `pipeline watch` (poll a branch, run each new commit) and `pipeline hook install`. */
export function registerPipelineWatch(p: Command): void {
  withCommon(p.command('watch').description('poll a branch and start a run for each new commit (foreground; for a systemd unit)'))
    .option('--interval <duration>', 'how often to look', '10s')
    .option('--ref <branch>', 'branch to follow', 'HEAD')
    .option('--once', 'look once and exit (for cron)')
    .action(
      action(async (o: WatchOptions) => {
        const stateDir = stateDirOf(o);
        const { repo, stackPath } = await repoOf(requireStack(o));
        const every = parseDuration(o.interval, 10_000);
        const c = await ensureAgent(stateDir);
        const { runs } = await c.call<{ runs: RunRecord[] }>('GET', '/v1/pipeline/runs?limit=50');
        const seen = new Set(runs.map((r) => r.commit.sha));
        let stop = false;
        process.once('SIGTERM', () => (stop = true));
        process.once('SIGINT', () => (stop = true));
        process.stderr.write(`watching ${o.ref} of ${repo} every ${every} ms\n`);
        while (!stop) {
          const sha = await headOf(repo, o.ref).catch((err: unknown) => (process.stderr.write(`${String(err)}\n`), null));
          if (sha && !seen.has(sha)) {
            seen.add(sha);
            const { run } = await (await ensureAgent(stateDir)).call<{ run: RunRecord }>('POST', '/v1/pipeline/runs', { repo, stackPath, ref: sha, requester: 'symphony pipeline watch' });
            print(o, `${run.id} ${run.status} for ${sha.slice(0, 12)} (${run.commit.subject})`, { id: run.id, commit: sha, status: run.status });
          }
          if (o.once) break;
          for (let t = 0; t < every && !stop; t += 200) await sleep(200);
        }
        await c.close();
      }),
    );
  withCommon(p.command('hook').description('git hooks that start runs').command('install'))
    .description('write a git hook that starts a run of each new commit (post-commit in a work tree, post-receive in a bare repository)')
    .option('--kind <hook>', 'post-commit or post-receive', 'post-commit')
    .action(
      action(async (o: WatchOptions) => {
        if (o.kind !== 'post-commit' && o.kind !== 'post-receive') throw new SymphonyError(`--kind must be post-commit or post-receive, not ${o.kind}`);
        const file = requireStack(o);
        const { repo } = await repoOf(file);
        const r = await exec('git', ['rev-parse', '--git-path', `hooks/${o.kind}`], { cwd: repo });
        const rel = r.stdout.trim();
        const hook = isAbsolute(rel) ? rel : resolve(repo, rel);
        if (existsSync(hook) && !readFileSync(hook, 'utf8').includes(HOOK_MARK)) throw new SymphonyError(`${hook} exists and is not Symphony's`, `add this line to it yourself: ${hookLine(o, file)}`);
        mkdirSync(dirname(hook), { recursive: true });
        // post-receive: the pushed branch tips arrive on stdin; run the newest.
        const ref = o.kind === 'post-receive' ? ' --ref "$(while read old new ref; do last=$new; done; echo $last)"' : '';
        writeFileSync(hook, `#!/bin/sh\n${HOOK_MARK}: starts a run and returns at once (the run goes on in the agent)\n${hookLine(o, file)}${ref} >/dev/null 2>&1 </dev/null &\n`);
        chmodSync(hook, 0o755);
        print(o, `wrote ${hook}: each ${o.kind === 'post-commit' ? 'commit' : 'push'} starts a run; see them with: symphony pipeline history`, { hook });
      }),
    );
}

function hookLine(o: GlobalOptions, file: string): string {
  const symphony = `"${process.execPath}" "${resolve(process.argv[1] ?? 'bin/symphony.js')}"`;
  return `${symphony} pipeline run -f "${resolve(file)}" --state-dir "${stateDirOf(o)}"${o.env ? ` -e ${o.env}` : ''}`;
}
