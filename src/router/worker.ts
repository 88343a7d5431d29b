import cluster from 'node:cluster';
import { describeError } from '../errors.js';
import type { PlaneCall, PlaneMessage } from './cluster-plane.js';
import { DataPlane } from './data-plane.js';
import { HEALTH_INTERVAL_MS } from './health.js';

/**
 * Entry of a router worker process (forked by `ClusterPlane`): one data plane on the
 * shared listening sockets, driven by the primary over IPC. It exits when asked to
 * close or when the primary goes away.
 */
function run(plane: DataPlane, call: PlaneCall): Promise<unknown> {
  switch (call.op) {
    case 'open':
      return plane.open(...call.args);
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
      return plane.close();
  }
}

if (!cluster.isWorker || process.send === undefined) {
  process.stderr.write('router worker: start the router (symphony router), it forks its workers\n');
  process.exit(2);
}
const send = (msg: PlaneMessage): void => {
  if (process.connected) process.send?.(msg);
};
const plane = new DataPlane({ shared: true, healthIntervalMs: Number(process.env.SYMPHONY_ROUTER_HEALTH_MS ?? HEALTH_INTERVAL_MS) });
process.on('message', (msg: PlaneMessage) => {
  if (msg.kind !== 'call') return;
  run(plane, msg).then(
    (result) => {
      const answer: PlaneMessage = { kind: 'answer', id: msg.id, result };
      if (msg.op !== 'close') return send(answer);
      if (!process.connected) process.exit(0);
      process.send?.(answer, undefined, undefined, () => process.exit(0));
    },
    (err: unknown) => send({ kind: 'answer', id: msg.id, error: describeError(err) }),
  );
});
process.on('disconnect', () => void plane.close().finally(() => process.exit(0)));
send({ kind: 'ready' });
