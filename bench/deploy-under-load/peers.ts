import type { ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, type RunResult } from '../../src/util/exec.js';
import { ROOT } from '../lib/report.js';
import { APP_FILE, get, startDirect, stopDirect, waitHealthy, writeApp } from './app.js';
import type { Action } from './symphony.js';

const PM2_BIN = join(ROOT, 'node_modules/pm2/bin/pm2');
const PM2_APP = 'dulbench';

/**
 * The pm2 peer: the same app in pm2 cluster mode (2 instances), under its own
 * PM2_HOME so that it never meets another pm2 on the machine. kill_timeout is
 * 10 s like Symphony's drain, so in-flight 2-second requests may finish.
 */
export class Pm2Cluster {
  private readonly home: string;

  /** `app` writes the app's files (default: this bench's app at a version); `env`: more environment for it. */
  constructor(
    private readonly dir: string,
    private readonly port: number,
    private readonly instances: number,
    private readonly app: (dir: string, version: string) => void = writeApp,
    private readonly env: Record<string, string> = {},
  ) {
    this.home = join(dir, 'pm2-home');
  }

  private async pm2(args: string[]): Promise<RunResult> {
    const r = await run(process.execPath, [PM2_BIN, ...args], { env: { ...process.env, PM2_HOME: this.home }, timeoutMs: 120_000 });
    if (r.code !== 0) throw new Error(`pm2 ${args.join(' ')} exited with ${r.code ?? r.signal}:\n${r.stdout.slice(-1500)}\n${r.stderr.slice(-1500)}\n(pm2 logs: ${join(this.home, 'logs')})`);
    return r;
  }

  async start(version: string): Promise<void> {
    mkdirSync(this.home, { recursive: true });
    const appDir = join(this.dir, 'pm2-app');
    this.app(appDir, version);
    const ecosystem = join(this.dir, 'pm2-ecosystem.json');
    const app = { name: PM2_APP, script: APP_FILE, cwd: appDir, exec_mode: 'cluster', instances: this.instances, kill_timeout: 10_000, env: { ...this.env, PORT: String(this.port) } };
    writeFileSync(ecosystem, JSON.stringify({ apps: [app] }, null, 2));
    await this.pm2(['start', ecosystem]);
    await waitHealthy(this.port);
  }

  /** Change the app's files to `version`, then `pm2 reload` (the zero-downtime reload of cluster mode). */
  async reload(version: string, label: string): Promise<Action> {
    this.app(join(this.dir, 'pm2-app'), version);
    const startedAt = Date.now();
    await this.pm2(['reload', PM2_APP]);
    return { label, startedAt, endedAt: Date.now(), operation: null, steps: [] };
  }

  /** Pids of the app's workers that pm2 reports online. */
  async workerPids(): Promise<number[]> {
    const list = JSON.parse((await this.pm2(['jlist'])).stdout) as { name: string; pid: number; pm2_env?: { status?: string } }[];
    return list.filter((p) => p.name === PM2_APP && p.pm2_env?.status === 'online' && p.pid > 0).map((p) => p.pid);
  }

  /** `pm2 kill`: stops the apps and the pm2 daemon of this PM2_HOME. */
  async kill(): Promise<void> {
    if (!existsSync(this.home)) return;
    await run(process.execPath, [PM2_BIN, 'kill'], { env: { ...process.env, PM2_HOME: this.home }, timeoutMs: 60_000 });
  }
}

/**
 * The naive peer: the app started directly; a release is SIGTERM (graceful
 * close), wait for exit, start the new files, wait for /healthz.
 */
export class PlainProcess {
  private child: ChildProcess | null = null;
  private readonly appDir: string;
  private readonly log: string;

  constructor(
    dir: string,
    private readonly port: number,
  ) {
    this.appDir = join(dir, 'plain-app');
    this.log = join(dir, 'plain-app.log');
  }

  private spawn(): void {
    const fd = openSync(this.log, 'a');
    this.child = startDirect(this.appDir, this.port, fd);
    closeSync(fd);
  }

  async start(version: string): Promise<void> {
    writeApp(this.appDir, version);
    this.spawn();
    await waitHealthy(this.port);
  }

  async restart(version: string, label: string): Promise<Action> {
    const startedAt = Date.now();
    if (this.child) await stopDirect(this.child);
    writeApp(this.appDir, version);
    this.spawn();
    await waitHealthy(this.port);
    const served = (await get(this.port, '/', 15_000)).body.trim();
    if (served !== version) throw new Error(`after restart the app on port ${this.port} serves ${served}, expected ${version}; see ${this.log}`);
    return { label, startedAt, endedAt: Date.now(), operation: null, steps: [] };
  }

  async stop(): Promise<void> {
    if (this.child) await stopDirect(this.child);
    this.child = null;
  }
}
