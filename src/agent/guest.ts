import type { ExecDeps } from '../apply/context.js';
import type { Route } from './http.js';
import type { Operations } from './operations.js';

/** What the agent hands a guest capability (the pipeline, backups…) when it starts. */
export interface GuestContext {
  deps: ExecDeps;
  operations: Operations;
}

/**
 * A capability that lives in the agent without being agent code: it adds
 * routes to the control API, is started after recovery and stopped before
 * the store closes. Everything else about it lives in its own folder.
 */
export interface AgentGuest {
  name: string;
  routes?: Route[];
  start?(ctx: GuestContext): Promise<void> | void;
  stop?(): Promise<void> | void;
}

export type GuestFactory = () => AgentGuest;
