import { join, resolve } from 'node:path';

/** Where the agent of a state dir listens. Kept apart so the CLI can find it without loading the agent. */
export const socketPathOf = (stateDir: string): string => join(resolve(stateDir), 'agent.sock');

/** The router of a state dir keeps its config and control socket here. */
export const routerDirOf = (stateDir: string): string => join(resolve(stateDir), 'router');

/**
 * V8 flags of the agent daemon, which idles most of its life and does I/O when
 * busy: a 1 MB young generation (default up to 16 MB per semi-space) and no
 * optimizing compiler keep its RSS flat through a deploy of 20 services
 * (bench/apply: about 68 MiB instead of 80–92). Only for the agent: the
 * router's data path needs the optimizing compiler (with these flags it spent
 * 242–272 µs of CPU per request instead of 69–80).
 */
export const AGENT_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1', '--no-opt'];

/** The agent's own Node flags, minus the ones only the agent should run with (for the daemons it starts). */
export const inheritableExecArgv = (argv: readonly string[] = process.execArgv): string[] => argv.filter((a) => !AGENT_NODE_FLAGS.includes(a));
