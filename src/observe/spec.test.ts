import { describe, expect, it } from 'vitest';
import { SpecError } from '../errors.js';
import { parseStackText } from '../spec/index.js';
import { isLoopback, parseListen } from './spec.js';

const stack = (metrics: string) => `name: s\nservices:\n  web: { run: node web.js }\nobservability:\n  metrics: ${metrics}\n`;

function issue(text: string): string {
  try {
    parseStackText(text, '/stacks/s/symphony.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(SpecError);
    return (err as SpecError).message;
  }
  throw new Error('loaded without a SpecError');
}

describe('observability: metrics address', () => {
  it.each([
    ['127.0.0.1:9464', { host: '127.0.0.1', port: 9464 }],
    ['localhost:1', { host: 'localhost', port: 1 }],
    ['0.0.0.0:9464', { host: '0.0.0.0', port: 9464 }],
    ['[::1]:9464', { host: '::1', port: 9464 }],
    ['9464', 'must name the host too, such as 127.0.0.1:9464'],
    [':9464', 'must name the host, such as 127.0.0.1:9464'],
    ['metrics.example.com:9464', 'must have an IP address or localhost as host, not metrics.example.com'],
    ['127.0.0.1:70000', 'must have a port from 1 to 65535, not 70000'],
    ['127.0.0.1:0', 'must have a port from 1 to 65535, not 0'],
    ['[127.0.0.1]:9464', 'must hold an IPv6 address inside [ ], not 127.0.0.1'],
    ['127.0.0.1', 'must be host:port, such as 127.0.0.1:9464'],
  ])('%s', (text, want) => {
    expect(parseListen(text)).toEqual(want);
  });

  it('knows loopback addresses', () => {
    expect([isLoopback({ host: '127.0.0.2', port: 1 }), isLoopback({ host: '::1', port: 1 }), isLoopback({ host: '0.0.0.0', port: 1 })]).toEqual([true, true, false]);
  });

  it('loads into the stack', () => {
    expect(parseStackText(stack('127.0.0.1:9464'), '/stacks/s/symphony.yaml').observability).toEqual({ metrics: { host: '127.0.0.1', port: 9464 } });
    expect(parseStackText('name: s\nservices:\n  web: { run: x }\n', '/stacks/s/symphony.yaml').observability).toBeNull();
  });

  it('names file, line and path of a bad address', () => {
    expect(issue(stack('9464'))).toBe('/stacks/s/symphony.yaml:5:12: observability.metrics: must name the host too, such as 127.0.0.1:9464 (got 9464)');
    expect(issue(stack('"9464"'))).toBe('/stacks/s/symphony.yaml:5:12: observability.metrics: must name the host too, such as 127.0.0.1:9464 (got "9464")');
    expect(issue(stack('example.org:80'))).toBe('/stacks/s/symphony.yaml:5:12: observability.metrics: must have an IP address or localhost as host, not example.org (got "example.org:80")');
    expect(issue('name: s\nservices:\n  web: { run: x }\nobservability: { metric: 1 }\n')).toMatch(/^\/stacks\/s\/symphony.yaml:4:\d+: observability.metric: unknown key "metric"; allowed keys at observability: metrics$/);
  });
});
