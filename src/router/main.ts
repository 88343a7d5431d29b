import { startRouter } from './daemon.js';

/**
 * Run the router as its own process: `node --import tsx src/router/main.ts <dir> [metricsPort]`.
 * The CLI verb `symphony router` does the same; SIGTERM/SIGINT close it cleanly.
 */
const [dir, metricsPort] = process.argv.slice(2);
if (!dir) {
  process.stderr.write('usage: main.ts <dir> [metricsPort]\n');
  process.exit(2);
}
const router = await startRouter({ dir, metricsPort: metricsPort ? Number(metricsPort) : undefined });
process.stdout.write(JSON.stringify({ pid: process.pid, socketPath: router.socketPath }) + '\n');
const stop = (): void => {
  void router.close().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
