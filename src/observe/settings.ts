import type { StateStore } from '../state/store.js';
import { formatListen, parseListen, type ListenAddress } from './spec.js';

/**
 * The `observability:` setting the last apply of each environment handed the
 * agent, kept in the state store's `meta` table (key `observability:<env>`), so a
 * restarted agent serves `/metrics` where it did.
 */
const KEY = 'observability:';

export function recordedMetrics(store: StateStore, env: string): ListenAddress | null {
  const v = store.db.prepare(`SELECT value FROM meta WHERE key = ?`).pluck().get(KEY + env) as string | undefined;
  return v ? toAddress(v) : null;
}

/** Every environment's metrics address, by env. */
export function allRecordedMetrics(store: StateStore): Array<{ env: string; metrics: ListenAddress }> {
  const rows = store.db.prepare(`SELECT key, value FROM meta WHERE key LIKE 'observability:%' ORDER BY key`).all() as Array<{ key: string; value: string }>;
  return rows.flatMap((r) => {
    const metrics = toAddress(r.value);
    return metrics ? [{ env: r.key.slice(KEY.length), metrics }] : [];
  });
}

export function recordMetrics(store: StateStore, env: string, metrics: ListenAddress | null): void {
  if (metrics) store.db.prepare(`INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`).run(KEY + env, JSON.stringify({ metrics: formatListen(metrics) }));
  else store.db.prepare(`DELETE FROM meta WHERE key = ?`).run(KEY + env);
}

function toAddress(value: string): ListenAddress | null {
  const parsed = parseListen((JSON.parse(value) as { metrics?: string }).metrics ?? '');
  return typeof parsed === 'string' ? null : parsed;
}

/** What an apply changes about the environment's metrics address; null when nothing (text forms, null = off). */
export function metricsChange(store: StateStore, env: string, wanted: ListenAddress | null): { from: string | null; to: string | null } | null {
  const rec = recordedMetrics(store, env);
  const from = rec ? formatListen(rec) : null;
  const to = wanted ? formatListen(wanted) : null;
  return from === to ? null : { from, to };
}
