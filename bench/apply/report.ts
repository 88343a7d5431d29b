import { formatTable, writeResult, type MachineInfo } from '../lib/report.js';
import { ratio, round, rounded, summarize, type Summary } from '../lib/stats.js';

/** Raw samples of the apply bench: wall times in ms, memory in MiB. */
export interface ApplyBenchSamples {
  apply: { create: number[]; replaceAll: number[] };
  plan: { cli: number[]; nodeStartup: number[]; nodeBare: number[]; inProcess: number[] };
  /** `anon*`: the anonymous part of the RSS (heap, stacks), without mapped files. */
  rss: { emptyAgent: number[]; afterCreate: number[]; afterReplace: number[]; afterIdle: number[]; peak: number[]; anonEmptyAgent: number[]; anonAfterIdle: number[] };
  agentIdleCpuPercent: number[];
}

/** Samples with nothing in them yet. */
export function emptySamples(): ApplyBenchSamples {
  return {
    apply: { create: [], replaceAll: [] },
    plan: { cli: [], nodeStartup: [], nodeBare: [], inProcess: [] },
    rss: { emptyAgent: [], afterCreate: [], afterReplace: [], afterIdle: [], peak: [], anonEmptyAgent: [], anonAfterIdle: [] },
    agentIdleCpuPercent: [],
  };
}

/** Append the samples of a finished round to the totals. */
export function appendSamples(into: ApplyBenchSamples, from: ApplyBenchSamples): void {
  into.agentIdleCpuPercent.push(...from.agentIdleCpuPercent);
  for (const group of ['apply', 'plan', 'rss'] as const) {
    const to = into[group] as Record<string, number[]>;
    for (const [k, xs] of Object.entries(from[group] as Record<string, number[]>)) to[k].push(...xs);
  }
}

export interface ApplyBenchConfig {
  /** Rounds run again because an instance lost its port to another process, with the error. */
  retriedRounds: string[];
  services: number;
  routes: number;
  rounds: number;
  plansPerRound: number;
  idleSeconds: number;
}

/** Issue 2's targets. */
export const TARGETS = { noChangePlanMs: 300, agentRssMiB: 80 } as const;

interface Row {
  label: string;
  unit: string;
  s: Summary;
  target?: string;
  met?: boolean;
}

const row = (label: string, unit: string, xs: number[], target?: { text: string; met: boolean }): Row => ({ label, unit, s: summarize(xs), target: target?.text, met: target?.met });

const roundSamples = (x: ApplyBenchSamples): ApplyBenchSamples =>
  JSON.parse(JSON.stringify(x, (_k, v: unknown) => (typeof v === 'number' ? round(v, 2) : v))) as ApplyBenchSamples;

/**
 * Print the table (medians, p90, targets) and write bench/results/apply.json.
 * The plan target holds on the median; the RSS target must hold for every sample.
 */
export function report(machine: MachineInfo, config: ApplyBenchConfig, x: ApplyBenchSamples): void {
  const plan = summarize(x.plan.cli);
  const startup = summarize(x.plan.nodeStartup);
  const bare = summarize(x.plan.nodeBare);
  const inProcess = summarize(x.plan.inProcess);
  const rssAll = [...x.rss.afterCreate, ...x.rss.afterReplace, ...x.rss.afterIdle];
  const planMet = plan.median <= TARGETS.noChangePlanMs;
  const rssMet = Math.max(...rssAll) <= TARGETS.agentRssMiB;
  const rssTarget = { text: `<= ${TARGETS.agentRssMiB} (all)`, met: rssMet };
  const rows: Row[] = [
    row(`apply: create ${config.services} services (cold)`, 'ms', x.apply.create),
    row(`apply: replace ${config.services} services`, 'ms', x.apply.replaceAll),
    row('plan, no change (CLI)', 'ms', x.plan.cli, { text: `<= ${TARGETS.noChangePlanMs} (median)`, met: planMet }),
    row('  CLI startup (symphony --version)', 'ms', x.plan.nodeStartup),
    row('  bare node startup (node -e 0)', 'ms', x.plan.nodeBare),
    row('  planner in-process (computePlan)', 'ms', x.plan.inProcess),
    row('agent RSS, empty state dir', 'MiB', x.rss.emptyAgent),
    row(`agent RSS, ${config.services} instances, after create`, 'MiB', x.rss.afterCreate, rssTarget),
    row('agent RSS after replace', 'MiB', x.rss.afterReplace, rssTarget),
    row(`agent RSS after ${config.idleSeconds} s idle`, 'MiB', x.rss.afterIdle, rssTarget),
    row('agent peak RSS (VmHWM)', 'MiB', x.rss.peak),
    row('  anonymous part (heap), empty state dir', 'MiB', x.rss.anonEmptyAgent),
    row(`  anonymous part (heap), ${config.services} instances, idle`, 'MiB', x.rss.anonAfterIdle),
    row(`agent CPU while idle`, '%', x.agentIdleCpuPercent),
  ];
  const table = formatTable(
    ['measure', 'unit', 'n', 'median', 'p90', 'min', 'max', { header: 'target', align: 'left' }, { header: 'met', align: 'left' }],
    rows.map((r) => [r.label, r.unit, r.s.n, r.s.median, r.s.p90, r.s.min, r.s.max, r.target ?? '', r.met === undefined ? '' : r.met ? 'yes' : 'NO']),
  );
  const shares = {
    bareNodeOfPlan: ratio(bare.median, plan.median),
    nodeStartupOfPlan: ratio(startup.median, plan.median),
    plannerInProcessOfPlan: ratio(inProcess.median, plan.median),
    restOfPlan: round(1 - (startup.median + inProcess.median) / plan.median, 3),
  };
  console.log(`\napply bench: ${config.services} app services (1 replica each, ${config.routes} routed), ${config.rounds} rounds, ${config.plansPerRound} plans per round`);
  console.log(`machine: ${machine.cpus} cpus, load ${machine.loadAverage.join(' ')}, node ${machine.node}, commit ${machine.git.commit?.slice(0, 10) ?? '?'}${machine.git.dirty ? ' (dirty)' : ''}\n`);
  console.log(table);
  if (config.retriedRounds.length > 0) console.log(`\n${config.retriedRounds.length} round(s) retried after an instance port collision (EADDRINUSE): ${config.retriedRounds.join('; ')}`);
  console.log(
    `\nno-change plan ${plan.median.toFixed(0)} ms: CLI startup ${(shares.nodeStartupOfPlan * 100).toFixed(0)}% (of which bare Node ${(shares.bareNodeOfPlan * 100).toFixed(0)}%, the rest loading the CLI's modules), planner in-process ${(shares.plannerInProcessOfPlan * 100).toFixed(0)}%, rest ${(shares.restOfPlan * 100).toFixed(0)}%`,
  );
  const result = {
    config,
    targets: { ...TARGETS, met: { noChangePlan: planMet, agentRss: rssMet } },
    summary: {
      applyCreateMs: rounded(summarize(x.apply.create)),
      applyReplaceAllMs: rounded(summarize(x.apply.replaceAll)),
      planNoChangeMs: rounded(plan),
      cliStartupMs: rounded(startup),
      bareNodeStartupMs: rounded(bare),
      plannerInProcessMs: rounded(inProcess),
      agentRssMiB: {
        emptyAgent: rounded(summarize(x.rss.emptyAgent)),
        afterCreate: rounded(summarize(x.rss.afterCreate)),
        afterReplace: rounded(summarize(x.rss.afterReplace)),
        afterIdle: rounded(summarize(x.rss.afterIdle)),
        peak: rounded(summarize(x.rss.peak)),
        anonEmptyAgent: rounded(summarize(x.rss.anonEmptyAgent)),
        anonAfterIdle: rounded(summarize(x.rss.anonAfterIdle)),
      },
      agentIdleCpuPercent: rounded(summarize(x.agentIdleCpuPercent)),
      planShares: shares,
    },
    samples: roundSamples(x),
  };
  const path = writeResult('apply', 'npm run build && node --import tsx bench/apply/run.ts', machine, result);
  console.log(`\nwrote ${path}`);
  if (!planMet || !rssMet) console.log('a target is missed: see bench/apply/README.md for how to profile');
}
