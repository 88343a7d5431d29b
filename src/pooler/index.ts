import { PoolerAdmin } from './admin.js';
import type { PoolerLayout } from './config.js';

export { PoolerAdmin, PAUSE_TIMEOUT_MS } from './admin.js';
export { PoolerError } from './errors.js';
export { ADMIN_USER, PGBOUNCER_BIN, POOLER_ORDINAL, POOLER_PORT, POOLER_DEFAULTS, pgbouncerIni, poolerLayout, versionRoleName, type PoolerLayout, type PoolerSettings } from './config.js';
export { poolerCommand, poolerDraft, probePooler } from './instance.js';
export { syncVersionRoles, wantedSchemas, type RoleSync } from './roles.js';

/** How a restart went behind the pooler: how long clients were held, for the step's result. */
export interface Held<T> {
  result: T;
  heldMs: number;
}

/**
 * Run `restart` while the pooler holds its clients: `PAUSE` (running transactions end,
 * server connections close, clients keep theirs), `restart`, then `RESUME` — also when
 * `restart` fails, so no client waits on a pooler nobody will resume.
 */
export async function whileHeld<T>(layout: PoolerLayout, password: string, restart: () => Promise<T>): Promise<Held<T>> {
  const admin = await PoolerAdmin.connect(layout, password);
  try {
    await admin.pause();
    const from = Date.now();
    let result: T;
    try {
      result = await restart();
    } finally {
      await resumeWith(admin, layout, password);
    }
    return { result, heldMs: Date.now() - from };
  } finally {
    await admin.close();
  }
}

/** RESUME on the open console, or on a new connection when that one broke meanwhile. */
async function resumeWith(admin: PoolerAdmin, layout: PoolerLayout, password: string): Promise<void> {
  try {
    await admin.resume();
  } catch {
    await resumePooler(layout, password);
  }
}

/** Let through clients a hold left paused (an agent that died between PAUSE and RESUME). A no-op when nothing is paused. */
export async function resumePooler(layout: PoolerLayout, password: string): Promise<void> {
  const admin = await PoolerAdmin.connect(layout, password);
  try {
    await admin.resume();
  } finally {
    await admin.close();
  }
}
