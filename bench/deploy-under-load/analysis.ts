import type { FailedRequest } from './load-client.js';
import type { Action } from './symphony.js';

/** Where a failed request falls: which action (deploy, reload, restart), which step, and how far from the traffic switch. */
export interface PlacedFailure extends FailedRequest {
  action: string | null;
  /** The journaled step running when the request was sent, or 'between steps'. */
  stepAtSend: string | null;
  /** The step running when the failure was seen. */
  stepAtFailure: string | null;
  /** Milliseconds from the end of the action's switch step (negative: before it). */
  msFromSwitch: number | null;
}

/** Failures grouped by what went wrong and where, for the report. */
export interface FailureGroup {
  what: string;
  cls: string;
  stepAtSend: string | null;
  stepAtFailure: string | null;
  count: number;
  msFromSwitch: { min: number; max: number } | null;
}

function stepAt(a: Action, t: number): string | null {
  if (a.steps.length === 0) return t >= a.startedAt && t <= a.endedAt ? 'the release' : null;
  const s = a.steps.find((x) => x.startedAt !== null && x.endedAt !== null && x.startedAt <= t && t <= x.endedAt);
  if (s) return s.name;
  return t >= a.startedAt && t <= a.endedAt ? 'between steps' : null;
}

/** Place each failure against the action whose window (plus `tailMs` after it) holds it. */
export function placeFailures(failures: readonly FailedRequest[], actions: readonly Action[], tailMs: number): PlacedFailure[] {
  return failures.map((f) => {
    const a =
      actions.find((x) => f.at >= x.startedAt && f.at <= x.endedAt) ??
      actions.find((x) => f.sentAt >= x.startedAt && f.sentAt <= x.endedAt) ??
      [...actions].reverse().find((x) => f.at > x.endedAt && f.at <= x.endedAt + tailMs);
    if (!a) return { ...f, action: null, stepAtSend: null, stepAtFailure: null, msFromSwitch: null };
    const sw = a.steps.find((s) => /(^|:)switch$|traffic|weight/.test(s.name) && s.endedAt !== null);
    return {
      ...f,
      action: a.label,
      stepAtSend: stepAt(a, f.sentAt) ?? (f.sentAt > a.endedAt ? 'after the action' : 'before the action'),
      stepAtFailure: stepAt(a, f.at) ?? (f.at > a.endedAt ? 'after the action' : 'before the action'),
      msFromSwitch: sw?.endedAt != null ? f.at - sw.endedAt : null,
    };
  });
}

/** Group placed failures by (what, class, steps); counts and the spread of their distance to the switch. */
export function groupFailures(placed: readonly PlacedFailure[]): FailureGroup[] {
  const groups = new Map<string, FailureGroup>();
  for (const p of placed) {
    const key = [p.what, p.cls, p.stepAtSend, p.stepAtFailure].join('|');
    const g = groups.get(key) ?? { what: p.what, cls: p.cls, stepAtSend: p.stepAtSend, stepAtFailure: p.stepAtFailure, count: 0, msFromSwitch: null };
    g.count++;
    if (p.msFromSwitch !== null) {
      g.msFromSwitch = g.msFromSwitch
        ? { min: Math.min(g.msFromSwitch.min, p.msFromSwitch), max: Math.max(g.msFromSwitch.max, p.msFromSwitch) }
        : { min: p.msFromSwitch, max: p.msFromSwitch };
    }
    groups.set(key, g);
  }
  return [...groups.values()].sort((a, b) => b.count - a.count);
}

/** Human lines for the groups, printed under the table when a phase failed requests. */
export function describeGroups(phase: string, groups: readonly FailureGroup[]): string[] {
  const at = (x: string | null): string => (x === null ? 'outside every release' : /^(before|after) /.test(x) ? x : `during ${x}`);
  return groups.map((g) => {
    const where = g.stepAtSend === g.stepAtFailure ? at(g.stepAtSend) : `sent ${at(g.stepAtSend)}, failed ${at(g.stepAtFailure)}`;
    const sw = g.msFromSwitch ? `, ${g.msFromSwitch.min}..${g.msFromSwitch.max} ms from the switch` : '';
    return `  ${phase}: ${g.count} x ${g.what} (${g.cls}) ${where}${sw}`;
  });
}
