import { RuntimeError } from '../errors.js';
import { ContainerDriver } from './container/driver.js';
import { ProcessDriver } from './process/index.js';
import type { RuntimeDriver } from './types.js';

export interface RuntimeDriverOptions {
  /** State directory of the environment; drivers stamp their instances with it. */
  scope: string;
}

const DRIVERS: Record<string, (opts: RuntimeDriverOptions) => RuntimeDriver> = {
  process: (opts) => new ProcessDriver({ scope: opts.scope }),
  container: (opts) => new ContainerDriver({ scope: opts.scope }),
};

/** Drivers that are designed but not built yet, named in the error for an unknown driver. */
const PLANNED = ['kubernetes'];

/** Names of the drivers this build can run. */
export function runtimeDriverNames(): string[] {
  return Object.keys(DRIVERS);
}

/** The runtime driver called `name`. Unknown or not-yet-built names throw a RuntimeError listing the known ones. */
export function getRuntimeDriver(name: string, opts: RuntimeDriverOptions): RuntimeDriver {
  const make = Object.hasOwn(DRIVERS, name) ? DRIVERS[name] : undefined;
  if (make) return make(opts);
  const known = runtimeDriverNames().join(', ');
  const why = PLANNED.includes(name)
    ? `runtime driver '${name}' is planned but not available in this build`
    : `unknown runtime driver '${name}'`;
  throw new RuntimeError(
    `${why}; known drivers: ${known} (planned: ${PLANNED.join(', ')})`,
    `set \`runtime: process\` on the service (or remove \`runtime:\`), then run symphony plan`,
  );
}
