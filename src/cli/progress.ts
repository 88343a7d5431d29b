import { setTimeout as sleep } from 'node:timers/promises';
import type { OperationRecord, StepRecord } from '../state/types.js';
import { ensureAgent, type AgentClient } from './agent-client.js';
import { print } from './common.js';

export interface OpView {
  operation: OperationRecord;
  steps: StepRecord[];
  running: boolean;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** Ctrl-C while following detaches: say how to follow again and exit 130 (128 + SIGINT); the agent runs the operation on. */
function detachOnInterrupt(opId: string, tty: boolean): () => void {
  const detach = (): void => {
    process.stderr.write(`${tty ? '\r\x1b[K' : ''}detached; operation ${opId} keeps running: symphony attach ${opId}\n`);
    process.exit(130);
  };
  process.once('SIGINT', detach);
  return () => process.off('SIGINT', detach);
}

/**
 * Follow an operation until it ends: an updating line on a terminal, plain
 * lines otherwise. If the agent dies meanwhile, start a new one (which
 * resumes the operation from the journal) and keep following. Ctrl-C detaches.
 */
export async function follow(stateDir: string, client: AgentClient, opId: string, quiet = false): Promise<OpView> {
  const tty = process.stderr.isTTY && !quiet;
  const attached = detachOnInterrupt(opId, tty);
  try {
    return await followUntilEnd(stateDir, client, opId, quiet, tty);
  } finally {
    attached();
  }
}

async function followUntilEnd(stateDir: string, client: AgentClient, opId: string, quiet: boolean, tty: boolean): Promise<OpView> {
  const seen = new Map<number, string>();
  let frame = 0;
  let c = client;
  const started = Date.now();
  for (;;) {
    let view: OpView;
    try {
      view = await c.call<OpView>('GET', `/v1/operations/${opId}`);
    } catch (err) {
      if ((err as { code?: string }).code === 'not_found') throw err;
      if (!quiet) process.stderr.write(`${tty ? '\r\x1b[K' : ''}agent unreachable; restarting it to resume ${opId}\n`);
      c = await ensureAgent(stateDir);
      continue;
    }
    for (const s of view.steps) {
      if (seen.get(s.seq) === s.status || s.status === 'pending') continue;
      seen.set(s.seq, s.status);
      if (quiet) continue;
      if (s.status === 'started' && tty) continue;
      const line = `${s.status.padEnd(7)} ${s.name}${s.error ? `: ${s.error}` : ''}`;
      process.stderr.write(`${tty ? '\r\x1b[K' : ''}${line}\n`);
    }
    if (view.operation.status !== 'running') return view;
    if (tty) {
      const cur = view.steps.find((s) => s.status === 'started');
      const secs = ((Date.now() - started) / 1000).toFixed(1);
      process.stderr.write(`\r\x1b[K${FRAMES[frame++ % FRAMES.length]} ${cur?.name ?? 'waiting'} (${secs}s)`);
    }
    await sleep(200);
  }
}

/** Submit a plan to the agent; returns the new operation's id. */
export async function submit(client: AgentClient, body: { plan: unknown; secrets?: Record<string, string>; verb: string }): Promise<string> {
  const { operation } = await client.call<{ operation: OperationRecord }>('POST', '/v1/operations', { plan: body.plan, secrets: body.secrets, requester: `${process.env.USER ?? 'user'} (symphony ${body.verb})` });
  return operation.id;
}

/** Follow an operation to its end, print how it ended (why, or how to go on), and give the exit code. */
export async function followToEnd(stateDir: string, client: AgentClient, opId: string, o: { json?: boolean }, label = 'operation'): Promise<number> {
  const view = await follow(stateDir, client, opId, o.json);
  await client.close();
  const paused = view.operation.status === 'paused' ? `; continue with: symphony resume ${opId}` : '';
  print(o, `${label} ${opId} ${view.operation.status}${view.operation.error && !paused ? `: ${view.operation.error}` : ''}${paused}`, view);
  return view.operation.status === 'succeeded' || view.operation.status === 'paused' ? 0 : 1;
}
