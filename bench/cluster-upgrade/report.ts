import { formatTable, type MachineInfo, writeResult } from '../lib/report.js';
import { median, summarize, type Summary } from '../lib/stats.js';

/** What one round of the cluster-upgrade bench measured (ms; latencies are per acknowledged write). */
export interface Round {
  order: string;
  rollMs: number;
  floorMs: number;
  rollMembersMs: Record<string, number>;
  floorMembersMs: Record<string, number>;
  /** Time the roll spent on its snapshot (from the start) and on handing leadership over. */
  snapshotMs: number | null;
  moveLeaderMs: number | null;
  writeErrors: { roll: number; floor: number; total: number };
  retries: { roll: number; floor: number };
  writes: number;
  before: number[];
  duringRoll: number[];
  duringFloor: number[];
}

const p99 = (xs: number[]): number | null => (xs.length > 0 ? summarize(xs).p99 : null);
const summary = (xs: number[]): Summary | null => (xs.length > 0 ? summarize(xs) : null);

/** Print the table (stdout) and write bench/results/cluster-upgrade.json. */
export function report(rounds: Round[], machine: MachineInfo, command: string): void {
  const rows = rounds.map((r, i) => {
    const pb = p99(r.before);
    const pr = p99(r.duringRoll);
    return [
      `round ${i + 1} (${r.order})`,
      r.rollMs,
      r.floorMs,
      r.rollMs / r.floorMs,
      r.writeErrors.roll,
      r.retries.roll,
      pb,
      pr,
      p99(r.duringFloor),
      pb !== null && pr !== null ? pr / pb : null,
    ];
  });
  const ratio = median(rounds.map((r) => r.rollMs / r.floorMs));
  const pb = median(rounds.map((r) => p99(r.before) ?? NaN).filter(Number.isFinite));
  const pr = median(rounds.map((r) => p99(r.duringRoll) ?? NaN).filter(Number.isFinite));
  rows.push(['median', median(rounds.map((r) => r.rollMs)), median(rounds.map((r) => r.floorMs)), ratio, median(rounds.map((r) => r.writeErrors.roll)), median(rounds.map((r) => r.retries.roll)), pb, pr, median(rounds.map((r) => p99(r.duringFloor) ?? NaN).filter(Number.isFinite)), pr / pb]);
  console.log('3-member etcd, rolling upgrade under a steady write load (4 writers, ~50 writes/s each)');
  console.log(
    formatTable(['', 'roll ms', 'floor ms', 'roll/floor', 'write errors', 'retries', 'p99 before', 'p99 roll', 'p99 floor', 'p99 roll/before'], rows, 2),
  );
  const snap = median(rounds.map((r) => r.snapshotMs ?? NaN).filter(Number.isFinite));
  const move = median(rounds.map((r) => r.moveLeaderMs ?? NaN).filter(Number.isFinite));
  console.log(`\nroll overheads the floor does not pay (medians): snapshot ${snap.toFixed(0)} ms, leadership transfer ${move.toFixed(0)} ms`);
  const path = writeResult('cluster-upgrade', command, machine, {
    targets: { ratio: 1.5, writeErrors: 0 },
    median: { rollMs: rows.at(-1)![1], floorMs: rows.at(-1)![2], ratio, snapshotMs: snap, moveLeaderMs: move, p99BeforeMs: pb, p99DuringRollMs: pr, p99Ratio: pr / pb },
    rounds: rounds.map((r) => ({
      order: r.order,
      rollMs: r.rollMs,
      floorMs: r.floorMs,
      ratio: r.rollMs / r.floorMs,
      rollMembersMs: r.rollMembersMs,
      floorMembersMs: r.floorMembersMs,
      snapshotMs: r.snapshotMs,
      moveLeaderMs: r.moveLeaderMs,
      writeErrors: r.writeErrors,
      retries: r.retries,
      writes: r.writes,
      latencyBefore: summary(r.before),
      latencyDuringRoll: summary(r.duringRoll),
      latencyDuringFloor: summary(r.duringFloor),
    })),
  });
  console.log(`\nwrote ${path}`);
}
