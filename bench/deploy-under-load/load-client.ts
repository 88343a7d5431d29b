import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The three kinds of client the load generator runs side by side. */
export type ClientClass = 'keepAlive' | 'newConnection' | 'slow';

/** Shape of the load: total paced rate of fast requests, and how many loops of each class. */
export interface LoadShape {
  /** Fast requests per second, keep-alive and new-connection together. */
  rate: number;
  /** Share of `rate` sent on new connections (`Connection: close`), 0..1. */
  newConnectionShare: number;
  keepAliveLoops: number;
  newConnectionLoops: number;
  /** 2-second requests always in flight. */
  slowInFlight: number;
}

export interface ClassCounts {
  sent: number;
  ok: number;
  non2xx: number;
  socketErrors: number;
  /** 2xx answers that did not come from the bench app of this phase (another process answered on the port). */
  wrongAnswer: number;
}

/** One failed request: when it ended, which client, and what went wrong. */
export interface FailedRequest {
  /** Epoch milliseconds when the failure was seen. */
  at: number;
  /** Epoch milliseconds when the request was sent. */
  sentAt: number;
  cls: ClientClass;
  what: string;
}

/** Everything the load generator counted in one phase. Every request sent is in `sent`, ended as ok or failed. */
export interface PhaseCounts {
  phase: string;
  port: number;
  startedAt: number;
  endedAt: number;
  byClass: Record<ClientClass, ClassCounts>;
  /** Non-2xx statuses and socket error codes, with counts. */
  failureKinds: Record<string, number>;
  /** Answers of `/` by version string: shows traffic really moved to each new release. */
  versions: Record<string, number>;
  /** The first 1,000 failures with their times, to place them against deploy steps. */
  failures: FailedRequest[];
  /** When the last failed request of the phase was sent (epoch ms; 0: none failed), whether or not it is among `failures`. */
  lastFailedSentAt: number;
}

export type LoadCommand = { type: 'start'; phase: string; port: number; versionPrefix: string } | { type: 'stop' };
export type LoadMessage = { type: 'ready' } | { type: 'started' } | { type: 'result'; counts: PhaseCounts };

const LOAD_MAIN = fileURLToPath(new URL('./load.ts', import.meta.url));

/**
 * The load generator as a separate process (so its event loop is not the
 * bench's). `start` begins a phase against a port; `stop` stops sending,
 * waits for every request in flight to end, and returns the phase's counts.
 */
export class LoadGenerator {
  private constructor(private readonly child: ChildProcess) {}

  static async spawn(shape: LoadShape): Promise<LoadGenerator> {
    const child = fork(LOAD_MAIN, [JSON.stringify(shape)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const gen = new LoadGenerator(child);
    await gen.next('ready');
    return gen;
  }

  private next<T extends LoadMessage['type']>(type: T): Promise<Extract<LoadMessage, { type: T }>> {
    return new Promise((resolve, reject) => {
      const onMessage = (m: LoadMessage): void => {
        if (m.type !== type) return;
        cleanup();
        resolve(m as Extract<LoadMessage, { type: T }>);
      };
      const onExit = (code: number | null): void => {
        cleanup();
        reject(new Error(`the load generator exited with ${code} while the bench waited for '${type}'`));
      };
      const cleanup = (): void => {
        this.child.off('message', onMessage);
        this.child.off('exit', onExit);
      };
      this.child.on('message', onMessage);
      this.child.on('exit', onExit);
    });
  }

  /** Begin a phase; a 2xx whose version does not start with `versionPrefix` counts as a wrong answer. */
  async start(phase: string, port: number, versionPrefix: string): Promise<void> {
    const started = this.next('started');
    this.child.send({ type: 'start', phase, port, versionPrefix } satisfies LoadCommand);
    await started;
  }

  async stop(): Promise<PhaseCounts> {
    const result = this.next('result');
    this.child.send({ type: 'stop' } satisfies LoadCommand);
    return (await result).counts;
  }

  close(): void {
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
  }
}

/** Totals of a phase: sent, failed (socket errors + non-2xx + wrong answers), and the achieved rate. */
export function totals(c: PhaseCounts): { sent: number; failed: number; non2xx: number; socketErrors: number; wrongAnswer: number; seconds: number; rps: number } {
  const all = Object.values(c.byClass);
  const sum = (k: keyof ClassCounts): number => all.reduce((n, x) => n + x[k], 0);
  const [sent, non2xx, socketErrors, wrongAnswer] = [sum('sent'), sum('non2xx'), sum('socketErrors'), sum('wrongAnswer')];
  const seconds = (c.endedAt - c.startedAt) / 1000;
  return { sent, failed: non2xx + socketErrors + wrongAnswer, non2xx, socketErrors, wrongAnswer, seconds, rps: seconds > 0 ? sent / seconds : 0 };
}
