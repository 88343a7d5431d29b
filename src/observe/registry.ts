import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Family, HistogramSeries } from './model.js';

type Values = Awaited<ReturnType<Histogram<string>['get']>>;

/**
 * A histogram whose buckets were counted elsewhere (the router, the journal):
 * prom-client prints what `series()` holds at scrape time, accumulating the buckets.
 */
class CountedHistogram extends Histogram<string> {
  constructor(
    private readonly family: Extract<Family, { type: 'histogram' }>,
    private readonly series: () => HistogramSeries[],
    private readonly bucketsS: () => number[],
    registry: Registry,
  ) {
    super({ name: family.name, help: family.help, labelNames: family.labelNames, buckets: family.bucketsS.length ? family.bucketsS : [1], registers: [registry] });
  }

  override async get(): Promise<Values> {
    const name = this.family.name;
    const bounds = this.bucketsS();
    const values: Values['values'] = [];
    for (const s of this.series()) {
      let acc = 0;
      bounds.forEach((le, i) => {
        acc += s.buckets[i] ?? 0;
        values.push({ labels: { ...s.labels, le }, value: acc, metricName: `${name}_bucket` });
      });
      values.push({ labels: { ...s.labels, le: '+Inf' }, value: s.count, metricName: `${name}_bucket` });
      values.push({ labels: s.labels, value: s.sum, metricName: `${name}_sum` });
      values.push({ labels: s.labels, value: s.count, metricName: `${name}_count` });
    }
    return { name, help: this.family.help, type: 'histogram', aggregator: 'sum', values } as unknown as Values;
  }

  async getForPromString(): Promise<Values> {
    return this.get();
  }
}

/**
 * One prom-client registry over families that `read()` computes afresh for each
 * scrape (one observation per scrape, shared by every metric). The families'
 * names must not change between reads.
 */
export function familyRegistry(first: Family[], read: () => Promise<Family[]>): { registry: Registry; scrape(): Promise<string> } {
  const registry = new Registry();
  let current = new Map(first.map((f) => [f.name, f]));
  const of = (name: string): Family | undefined => current.get(name);
  for (const f of first) {
    if (f.type === 'histogram') {
      new CountedHistogram(
        f,
        () => {
          const x = of(f.name);
          return x?.type === 'histogram' ? x.series : [];
        },
        () => {
          const x = of(f.name);
          return x?.type === 'histogram' ? x.bucketsS : [];
        },
        registry,
      );
      continue;
    }
    const Kind = f.type === 'counter' ? Counter : Gauge;
    new Kind({
      name: f.name,
      help: f.help,
      labelNames: f.labelNames,
      registers: [registry],
      collect(this: Counter<string> | Gauge<string>) {
        this.reset();
        const x = of(f.name);
        if (x?.type !== 'histogram') for (const s of x?.samples ?? []) (this as Gauge<string>).inc(s.labels, s.value);
      },
    });
  }
  let queue: Promise<string> = Promise.resolve('');
  return {
    registry,
    // Scrapes run one after another: each sees the families read for it.
    scrape() {
      const run = queue.then(async () => {
        current = new Map((await read()).map((f) => [f.name, f]));
        return registry.metrics();
      });
      queue = run.catch(() => '');
      return run;
    },
  };
}
