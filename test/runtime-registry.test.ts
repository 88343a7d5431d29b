import { describe, expect, it } from 'vitest';
import { RuntimeError } from '../src/errors.js';
import { ProcessDriver } from '../src/runtime/process/index.js';
import { getRuntimeDriver, runtimeDriverNames } from '../src/runtime/registry.js';

describe('runtime driver registry', () => {
  it('returns the process driver, stamped with the resolved scope', () => {
    const driver = getRuntimeDriver('process', { scope: '/tmp/symphony-registry/./state' });
    expect(driver).toBeInstanceOf(ProcessDriver);
    expect(driver.name).toBe('process');
    expect((driver as ProcessDriver).scope).toBe('/tmp/symphony-registry/state');
    expect(driver.logFile('api-1')).toBe('/tmp/symphony-registry/state/logs/api-1.log');
    expect(runtimeDriverNames()).toEqual(['process', 'container']);
  });

  it('rejects an unknown driver with a RuntimeError that lists the known ones', () => {
    const attempt = (): unknown => getRuntimeDriver('docker', { scope: '/tmp/s' });
    expect(attempt).toThrow(RuntimeError);
    expect(attempt).toThrow("unknown runtime driver 'docker'; known drivers: process, container (planned: kubernetes)");
    try {
      attempt();
    } catch (err) {
      expect((err as RuntimeError).hint).toContain('runtime: process');
      expect((err as RuntimeError).toJSON()).toMatchObject({ code: 'runtime' });
    }
  });

  it('says a planned driver is not built yet, and does not resolve Object prototype names', () => {
    expect(() => getRuntimeDriver('kubernetes', { scope: '/tmp/s' })).toThrow(
      "runtime driver 'kubernetes' is planned but not available in this build; known drivers: process, container",
    );
    expect(getRuntimeDriver('container', { scope: '/tmp/s' }).name).toBe('container');
    expect(() => getRuntimeDriver('toString', { scope: '/tmp/s' })).toThrow("unknown runtime driver 'toString'");
  });
});
