import { existsSync } from 'node:fs';
import type { Server as NetServer } from 'node:net';
import { describeError } from '../errors.js';
import { createLogger } from '../util/log.js';
import { startRouter } from './daemon.js';
import { DataPlane } from './data-plane.js';
import { HEALTH_INTERVAL_MS } from './health.js';
import { acquireLeaderLock, recordTakeover } from './peers.js';
import type { PlaneCall, PlaneMessage } from './remote-plane.js';

/**
 * Entry of a follower router process (started by the leader, see ./peers.ts): a data plane
 * accepting on the listening sockets the leader hands it, driven over IPC. When the leader
 * goes away without closing it, the follower takes the leader lock and leads: it serves the
 * control socket from the persisted config and starts a follower of its own. It exits when
 * another process leads already, when asked to close, or when its dir is deleted.
 */
const dir = process.argv[2];
if (!dir || process.send === undefined) {
  process.stderr.write('router follower: start the router (symphony router), it starts its followers\n');
  process.exit(2);
}
// Started after its dir was deleted (the state dir destroyed while the leader replaced a
// follower): nothing to serve, and the log must not bring the dir back.
if (!existsSync(dir)) process.exit(0);
const log = createLogger('router', `${dir}/router.log`, { mkdir: false });
const plane = new DataPlane({ ownsPorts: false, healthIntervalMs: Number(process.env.SYMPHONY_ROUTER_HEALTH_MS ?? HEALTH_INTERVAL_MS) });
let closing = false;

function run(call: PlaneCall): Promise<unknown> {
  switch (call.op) {
    case 'install':
      return plane.install(...call.args);
    case 'closeUnused':
      return plane.closeUnused(...call.args);
    case 'pause':
      return plane.pause(...call.args);
    case 'resume':
      return plane.resume(...call.args);
    case 'closeLongLived':
      return plane.closeLongLived(...call.args);
    case 'snapshot':
      return plane.snapshot();
    case 'close':
      closing = true;
      return plane.close();
  }
}

const send = (msg: PlaneMessage, done?: () => void): void => {
  if (process.connected) process.send?.(msg, undefined, undefined, done);
  else done?.();
};

process.on('message', (msg: PlaneMessage, handle: unknown) => {
  if (msg.kind === 'adopt') {
    plane.adopt(msg.port, handle as NetServer);
    return send({ kind: 'answer', id: msg.id, result: null });
  }
  if (msg.kind !== 'call') return;
  run(msg).then(
    (result) => send({ kind: 'answer', id: msg.id, result }, msg.op === 'close' ? () => process.exit(0) : undefined),
    (err: unknown) => send({ kind: 'answer', id: msg.id, error: describeError(err) }),
  );
});

async function takeOver(): Promise<void> {
  if (closing) return process.exit(0);
  const lock = await acquireLeaderLock(dir, 2000);
  if (!lock || !existsSync(dir)) {
    log.warn({ pid: process.pid }, 'router leader gone and another process leads; this follower stops');
    await plane.close();
    return process.exit(0);
  }
  const takeovers = recordTakeover(dir);
  log.warn({ pid: process.pid, takeovers }, 'router leader gone; this follower takes over');
  const router = await startRouter({ dir, takeover: { plane, lock } });
  process.removeAllListeners('SIGTERM');
  const stop = (): void => void router.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

process.on('disconnect', () => {
  takeOver().catch((err: unknown) => {
    log.error({ err: String(err) }, 'router follower could not take over');
    void plane.close().finally(() => process.exit(1));
  });
});
process.on('SIGTERM', () => void plane.close().finally(() => process.exit(0)));
send({ kind: 'ready' });
