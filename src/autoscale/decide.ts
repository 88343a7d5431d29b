import { clamp, pct, type AutoscaleConfig } from './config.js';

/** Average CPU of a service's instances over one interval, as a share of one core each. */
export interface Sample {
  at: number;
  cpu: number;
}

/** Target mode: what the formula asked for at one moment (kept for the stabilisation window). */
export interface Recommendation {
  at: number;
  desired: number;
}

export interface ScaleState {
  /** Replicas running now. */
  current: number;
  /** Oldest first. */
  samples: Sample[];
  /** When the service was last scaled (by anyone), ms. */
  lastScaleAt: number | null;
  /** Target mode's earlier recommendations, oldest first. */
  recommendations: Recommendation[];
}

export interface ScaleDecision {
  from: number;
  to: number;
  /** The numbers that decided, e.g. `cpu 84%, 79% > 70%`. */
  reason: string;
}

export interface Decided {
  decision: ScaleDecision | null;
  /** Target mode: the recommendation to remember (null in step mode or without enough samples). */
  recommendation: Recommendation | null;
  /** Why nothing happens, when nothing does (for logs and tests). */
  why?: string;
}

const none = (why: string, recommendation: Recommendation | null = null): Decided => ({ decision: null, recommendation, why });
const cooling = (st: ScaleState, now: number, ms: number): boolean => st.lastScaleAt !== null && now - st.lastScaleAt < ms;

/**
 * Step mode: `periods` samples in a row above `up` add `step` replicas,
 * `periods` in a row below `down` remove `step`, each after its cooldown
 * since the last scaling, never outside [min, max].
 */
function stepMode(cfg: AutoscaleConfig, st: ScaleState, now: number): Decided {
  const recent = st.samples.slice(-cfg.periods);
  if (recent.length < cfg.periods) return none(`${recent.length} of ${cfg.periods} samples`);
  const figures = recent.map((s) => pct(s.cpu)).join(', ');
  if (recent.every((s) => s.cpu > cfg.up)) {
    const to = clamp(cfg, st.current + cfg.step);
    if (to <= st.current) return none(`at max ${cfg.max}`);
    if (cooling(st, now, cfg.cooldownUpMs)) return none('cooling down after the last scaling (up)');
    return { decision: { from: st.current, to, reason: `cpu ${figures} > ${pct(cfg.up)}` }, recommendation: null };
  }
  if (recent.every((s) => s.cpu < cfg.down)) {
    const to = clamp(cfg, st.current - cfg.step);
    if (to >= st.current) return none(`at min ${cfg.min}`);
    if (cooling(st, now, cfg.cooldownDownMs)) return none('cooling down after the last scaling (down)');
    return { decision: { from: st.current, to, reason: `cpu ${figures} < ${pct(cfg.down)}` }, recommendation: null };
  }
  return none(`cpu ${figures} within ${pct(cfg.down)}..${pct(cfg.up)}`);
}

/**
 * Target mode, the Kubernetes HPA's rule: desired = ceil(current × usage /
 * target), no change while usage / target is within 1 ± tolerance; scaling
 * down goes only to the highest recommendation of the last `cooldown.down`
 * (the stabilisation window), scaling up to the lowest of the last
 * `cooldown.up`. Usage is the mean of the last `periods` samples.
 */
function targetMode(cfg: AutoscaleConfig, st: ScaleState, now: number): Decided {
  const recent = st.samples.slice(-cfg.periods);
  if (recent.length < cfg.periods) return none(`${recent.length} of ${cfg.periods} samples`);
  const usage = recent.reduce((a, s) => a + s.cpu, 0) / recent.length;
  const ratio = usage / cfg.target;
  const within = Math.abs(ratio - 1) <= cfg.tolerance;
  const raw = clamp(cfg, within ? st.current : Math.ceil(st.current * ratio - 1e-9));
  const recommendation = { at: now, desired: raw };
  const inWindow = (ms: number): number[] => [...st.recommendations.filter((r) => r.at > now - ms).map((r) => r.desired), raw];
  const formula = `cpu ${pct(usage)} vs target ${pct(cfg.target)}: ceil(${st.current} × ${ratio.toFixed(2)}) = ${Math.ceil(st.current * ratio - 1e-9)}`;
  if (raw > st.current) {
    const to = Math.min(...inWindow(cfg.cooldownUpMs));
    if (to <= st.current) return none(`${formula}; held by the up window`, recommendation);
    return { decision: { from: st.current, to, reason: formula }, recommendation };
  }
  if (raw < st.current) {
    const to = Math.max(...inWindow(cfg.cooldownDownMs));
    if (to >= st.current) return none(`${formula}; held by the down stabilisation window`, recommendation);
    return { decision: { from: st.current, to, reason: formula }, recommendation };
  }
  return none(within ? `${formula}; within ${pct(cfg.tolerance)} of the target` : formula, recommendation);
}

/**
 * The autoscaler's decision: a pure function of the configuration, the
 * recent samples and the last scaling. A count outside [min, max] (the file
 * changed) is brought back first, whatever the samples say.
 */
export function decide(cfg: AutoscaleConfig, st: ScaleState, now: number): Decided {
  if (st.current < cfg.min) return { decision: { from: st.current, to: cfg.min, reason: `below min ${cfg.min}` }, recommendation: null };
  if (st.current > cfg.max) return { decision: { from: st.current, to: cfg.max, reason: `above max ${cfg.max}` }, recommendation: null };
  return cfg.mode === 'target' ? targetMode(cfg, st, now) : stepMode(cfg, st, now);
}
