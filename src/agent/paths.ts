import { join, resolve } from 'node:path';

/** Where the agent of a state dir listens. Kept apart so the CLI can find it without loading the agent. */
export const socketPathOf = (stateDir: string): string => join(resolve(stateDir), 'agent.sock');

/** The router of a state dir keeps its config and control socket here. */
export const routerDirOf = (stateDir: string): string => join(resolve(stateDir), 'router');
