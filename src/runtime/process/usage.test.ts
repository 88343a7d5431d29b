import { describe, expect, it } from 'vitest';
import { parseUsage, sumByGroup } from './usage.js';

// Fields: pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime ...
const stat = (comm: string, state: string, pgrp: number, utime: number, stime: number, cutime: number, cstime: number) =>
  `4242 (${comm}) ${state} 1 ${pgrp} ${pgrp} 0 -1 4194304 100 0 0 0 ${utime} ${stime} ${cutime} ${cstime} 20 0 1 0 5000 1000 250 18446744073709551615`;

describe('process usage', () => {
  it('reads utime+stime+cutime+cstime and resident pages, with odd command names', () => {
    expect(parseUsage(stat('node) x (y', 'S', 77, 10, 5, 3, 2), '9000 250 100 1 0 300 0')).toEqual({ pgrp: 77, ticks: 20, residentPages: 250 });
  });

  it('skips zombies and text it cannot read', () => {
    expect(parseUsage(stat('sh', 'Z', 77, 1, 1, 0, 0), '0 0 0 0 0 0 0')).toBeNull();
    expect(parseUsage('garbage', '1 2')).toBeNull();
  });

  it('sums each wanted group and leaves the others out', () => {
    const procs = [
      { pgrp: 10, ticks: 150, residentPages: 100 },
      { pgrp: 10, ticks: 50, residentPages: 28 },
      { pgrp: 11, ticks: 999, residentPages: 999 },
    ];
    expect([...sumByGroup(procs, new Set([10, 12]), 100, 4096)]).toEqual([[10, { cpuSeconds: 2, residentBytes: 128 * 4096, processes: 2 }]]);
  });
});
