import type { Command } from 'commander';
import { startAgent } from '../../agent/agent.js';
import { startRouter } from '../../router/daemon.js';
import { registerAgentAdmin } from './agent-admin.js';
import { action, stateDirOf, withCommon, type GlobalOptions } from '../common.js';

function untilSignal(close: () => Promise<void>): Promise<void> {
  return new Promise((res) => {
    const stop = (): void => void close().then(res, res);
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}

export function registerDaemons(program: Command): void {
  const agent = program.command('agent');
  registerAgentAdmin(agent);
  withCommon(agent.description('run the agent of a state dir in the foreground (the CLI starts one on demand); agent stop, agent install')).action(
    action(async (o: GlobalOptions) => {
      const agent = await startAgent(stateDirOf(o), { onShutdown: () => process.exit(0) });
      process.stderr.write(`agent pid ${process.pid} serving ${agent.socketPath}\n`);
      await untilSignal(agent.close);
    }),
  );
  program
    .command('router')
    .description('run the router (data plane) in the foreground; the agent starts one on demand')
    .requiredOption('--dir <dir>', 'router directory (config, control socket)')
    .option('--metrics-port <port>', 'serve Prometheus metrics on 127.0.0.1:<port>')
    .action(
      action(async (o: { dir: string; metricsPort?: string }) => {
        const router = await startRouter({ dir: o.dir, metricsPort: o.metricsPort ? Number(o.metricsPort) : undefined });
        process.stderr.write(`router pid ${process.pid} serving ${router.socketPath}\n`);
        await untilSignal(router.close);
      }),
    );
}
