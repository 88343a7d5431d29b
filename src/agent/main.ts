import { startAgent } from './agent.js';

/**
 * The agent's own entry point (`node dist/agent/main.js <state dir>`), so the
 * daemon loads only what it runs, not every CLI verb.
 */
const stateDir = process.argv[2];
if (!stateDir) {
  process.stderr.write('usage: agent/main.js <state dir>\n');
  process.exit(2);
}
const agent = await startAgent(stateDir, { onShutdown: () => process.exit(0) });
process.stderr.write(`agent pid ${process.pid} serving ${agent.socketPath}\n`);
const stop = (): void => void agent.close().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
