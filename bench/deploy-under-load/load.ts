import { Agent, request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ClassCounts, ClientClass, LoadCommand, LoadMessage, LoadShape, PhaseCounts } from './load-client.js';

/**
 * Load generator process (forked by LoadGenerator in load-client.ts). Runs
 * paced keep-alive loops, paced new-connection loops (`Connection: close`) and
 * back-to-back 2-second requests, against one port per phase, and counts
 * every request: a request is sent once, never retried, and ends as a 2xx, a
 * non-2xx or a socket error (a timeout is a socket error).
 */
const shape = JSON.parse(process.argv[2] ?? '{}') as LoadShape;
const FAST_TIMEOUT_MS = 15_000;
const SLOW_TIMEOUT_MS = 20_000;
const MAX_FAILURES_KEPT = 1000;
/** An unpaced (slow) loop waits this long after a failure, so a refused port is not hammered. */
const FAILED_PAUSE_MS = 100;

const send = (m: LoadMessage): void => {
  process.send?.(m);
};

const zero = (): ClassCounts => ({ sent: 0, ok: 0, non2xx: 0, socketErrors: 0, wrongAnswer: 0 });

let counts: PhaseCounts | null = null;
let versionPrefix = '';
let running = false;

function fresh(phase: string, port: number): PhaseCounts {
  return { phase, port, startedAt: Date.now(), endedAt: 0, byClass: { keepAlive: zero(), newConnection: zero(), slow: zero() }, failureKinds: {}, versions: {}, failures: [], lastFailedSentAt: 0 };
}

function fail(c: PhaseCounts, cls: ClientClass, sentAt: number, what: string): void {
  c.failureKinds[what] = (c.failureKinds[what] ?? 0) + 1;
  c.lastFailedSentAt = Math.max(c.lastFailedSentAt, sentAt);
  if (c.failures.length < MAX_FAILURES_KEPT) c.failures.push({ at: Date.now(), sentAt, cls, what });
}

/** One request; resolves when it has ended one way or the other (never rejects), with whether it failed. */
function one(c: PhaseCounts, cls: ClientClass, agent: Agent | false): Promise<boolean> {
  const sentAt = Date.now();
  const k = c.byClass[cls];
  k.sent++;
  const path = cls === 'slow' ? '/slow' : '/';
  const headers = cls === 'newConnection' ? { connection: 'close' } : {};
  return new Promise((resolve) => {
    let done = false;
    const end = (failure: string | null, body?: string): void => {
      if (done) return;
      done = true;
      const v = body?.trim().replace(/^slow /, '');
      if (failure === null && v !== undefined && !v.startsWith(versionPrefix)) {
        k.wrongAnswer++;
        failure = `wrong answer: ${JSON.stringify(v.slice(0, 60))}`;
      }
      if (failure === null) {
        k.ok++;
        if (cls !== 'slow' && v !== undefined) c.versions[v] = (c.versions[v] ?? 0) + 1;
      } else fail(c, cls, sentAt, failure);
      resolve(failure !== null);
    };
    const req = request({ host: '127.0.0.1', port: c.port, path, agent, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('error', (err: NodeJS.ErrnoException) => {
        k.socketErrors++;
        end(`response ${err.code ?? err.message}`);
      });
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) return end(null, body);
        k.non2xx++;
        end(`status ${status}`);
      });
    });
    req.setTimeout(cls === 'slow' ? SLOW_TIMEOUT_MS : FAST_TIMEOUT_MS, () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (done) return;
      k.socketErrors++;
      end(err.code ?? err.message);
    });
    req.end();
  });
}

/** A loop that sends one request at a time, paced to `perSecond` (0: back to back). */
async function loop(c: PhaseCounts, cls: ClientClass, agent: Agent | false, perSecond: number): Promise<void> {
  const interval = perSecond > 0 ? 1000 / perSecond : 0;
  let next = performance.now() + Math.random() * interval;
  while (running) {
    const wait = next - performance.now();
    if (wait > 0) await sleep(wait);
    if (!running) return;
    const failed = await one(c, cls, agent);
    if (failed && interval === 0) await sleep(FAILED_PAUSE_MS);
    next = Math.max(next + interval, performance.now() - interval);
  }
}

let loops: Promise<void>[] = [];
let agents: Agent[] = [];

function start(phase: string, port: number, prefix: string): void {
  const c = fresh(phase, port);
  versionPrefix = prefix;
  counts = c;
  running = true;
  const keepAlive = new Agent({ keepAlive: true, maxSockets: shape.keepAliveLoops });
  const slowAgent = new Agent({ keepAlive: true, maxSockets: shape.slowInFlight });
  agents = [keepAlive, slowAgent];
  const kaRate = (shape.rate * (1 - shape.newConnectionShare)) / Math.max(1, shape.keepAliveLoops);
  const ncRate = (shape.rate * shape.newConnectionShare) / Math.max(1, shape.newConnectionLoops);
  loops = [
    ...Array.from({ length: shape.keepAliveLoops }, () => loop(c, 'keepAlive', keepAlive, kaRate)),
    ...Array.from({ length: shape.newConnectionLoops }, () => loop(c, 'newConnection', false, ncRate)),
    ...Array.from({ length: shape.slowInFlight }, () => loop(c, 'slow', slowAgent, 0)),
  ];
}

async function stop(): Promise<void> {
  if (!counts) throw new Error('stop without start');
  running = false;
  counts.endedAt = Date.now();
  await Promise.all(loops);
  for (const a of agents) a.destroy();
  send({ type: 'result', counts });
  counts = null;
}

process.on('message', (m: LoadCommand) => {
  if (m.type === 'start') {
    start(m.phase, m.port, m.versionPrefix);
    send({ type: 'started' });
  } else void stop();
});
process.on('disconnect', () => process.exit(0));
send({ type: 'ready' });
