import { parseDuration } from '../util/duration.js';

/** An app's `autoscale:` section with every default filled in. CPU figures are shares of one core (0.7 = 70%). */
export interface AutoscaleConfig {
  min: number;
  max: number;
  mode: 'step' | 'target';
  up: number;
  down: number;
  target: number;
  /** Target mode: no change while usage / target is within 1 ± tolerance (the HPA's 10%). */
  tolerance: number;
  periods: number;
  intervalMs: number;
  cooldownUpMs: number;
  cooldownDownMs: number;
  step: number;
}

/** The section as the stack file's schema leaves it (percentages already fractions). */
export interface AutoscaleSpec {
  min: number;
  max: number;
  mode?: 'step' | 'target';
  cpu?: { up?: number; down?: number; target?: number };
  periods?: number;
  interval?: string | number;
  cooldown?: { up?: string | number; down?: string | number };
  step?: number;
}

export const AUTOSCALE_DEFAULTS = { up: 0.7, down: 0.2, target: 0.5, tolerance: 0.1, periods: 2, intervalMs: 15_000, cooldownUpMs: 0, cooldownDownMs: 300_000, step: 1 } as const;

export function autoscaleConfig(s: AutoscaleSpec): AutoscaleConfig {
  const d = AUTOSCALE_DEFAULTS;
  return {
    min: s.min,
    max: s.max,
    mode: s.mode ?? 'step',
    up: s.cpu?.up ?? d.up,
    down: s.cpu?.down ?? d.down,
    target: s.cpu?.target ?? d.target,
    tolerance: d.tolerance,
    periods: s.periods ?? d.periods,
    intervalMs: parseDuration(s.interval, d.intervalMs),
    cooldownUpMs: parseDuration(s.cooldown?.up, d.cooldownUpMs),
    cooldownDownMs: parseDuration(s.cooldown?.down, d.cooldownDownMs),
    step: s.step ?? d.step,
  };
}

/** The autoscale config of a release's recorded service spec, or null when it has none. */
export function autoscaleOf(spec: Record<string, unknown> | undefined): AutoscaleConfig | null {
  const a = spec?.autoscale as AutoscaleSpec | undefined;
  return a ? autoscaleConfig(a) : null;
}

/** `n` kept within the section's bounds. */
export const clamp = (cfg: Pick<AutoscaleConfig, 'min' | 'max'>, n: number): number => Math.min(cfg.max, Math.max(cfg.min, n));

export const pct = (x: number): string => `${Math.round(x * 100)}%`;
