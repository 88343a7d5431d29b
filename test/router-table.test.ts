import { describe, expect, it } from 'vitest';
import { bySpecificity, hashTicket, hostName, matchRoute, pathMatches, pickByWeight, pickUpstream, readCookie, stickyBackend } from '../src/router/table.js';
import { codeClasses, mergeSnapshots, percentiles, type CounterSnapshot } from '../src/router/stats.js';
import { parseRoute } from '../src/router/validate.js';
import { FrameCursor, HeadEnd } from '../src/router/ws-frames.js';

describe('route matching', () => {
  const routes = [
    { id: 'any', pathPrefix: undefined },
    { id: 'api', pathPrefix: '/api' },
    { id: 'api-v2', pathPrefix: '/api/v2' },
    { id: 'admin-host', host: 'admin.example.com', pathPrefix: undefined },
  ].sort(bySpecificity);

  it('prefers a host match, then the longest prefix', () => {
    expect(matchRoute(routes, 'admin.example.com', '/api/v2/x')?.id).toBe('admin-host');
    expect(matchRoute(routes, 'shop.example.com', '/api/v2/x')?.id).toBe('api-v2');
    expect(matchRoute(routes, 'shop.example.com', '/api?q=1')?.id).toBe('api');
    expect(matchRoute(routes, '', '/apix')?.id).toBe('any');
  });

  it('matches path prefixes on segment boundaries only', () => {
    expect(pathMatches('/api', '/api')).toBe(true);
    expect(pathMatches('/api', '/api/users')).toBe(true);
    expect(pathMatches('/api', '/apiary')).toBe(false);
    expect(pathMatches('/api/', '/api/x')).toBe(true);
  });

  it('reads the host name without port, in lower case', () => {
    expect(hostName('Shop.Example.com:8080')).toBe('shop.example.com');
    expect(hostName('[::1]:8080')).toBe('[::1]');
    expect(hostName(undefined)).toBe('');
  });
});

describe('traffic split', () => {
  const backends = [
    { release: 'blue', weight: 30 },
    { release: 'green', weight: 70 },
  ];

  it('maps tickets to cumulative weights', () => {
    expect(pickByWeight(backends, 0)?.release).toBe('blue');
    expect(pickByWeight(backends, 29.99)?.release).toBe('blue');
    expect(pickByWeight(backends, 30)?.release).toBe('green');
    expect(pickByWeight([{ release: 'x', weight: 0 }], 10)).toBeUndefined();
  });

  it('honours a sticky release only while it has weight', () => {
    expect(stickyBackend(backends, 'blue')?.release).toBe('blue');
    expect(stickyBackend([{ release: 'blue', weight: 0 }, { release: 'green', weight: 100 }], 'blue')).toBeUndefined();
    expect(stickyBackend(backends, 'gone')).toBeUndefined();
  });

  it('hashes a client to a stable ticket in 0..99', () => {
    expect(hashTicket('10.0.0.7')).toBe(hashTicket('10.0.0.7'));
    const tickets = new Set(Array.from({ length: 200 }, (_, i) => hashTicket(`10.0.${i >> 8}.${i & 255}`)));
    expect(Math.min(...tickets)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...tickets)).toBeLessThan(100);
    expect(tickets.size).toBeGreaterThan(50);
  });

  it('reads one cookie among several', () => {
    expect(readCookie('a=1; symphony_release_web=green; b=2', 'symphony_release_web')).toBe('green');
    expect(readCookie('xsymphony_release_web=blue', 'symphony_release_web')).toBeUndefined();
    expect(readCookie(undefined, 'c')).toBeUndefined();
  });
});

describe('upstream choice', () => {
  it('takes the least loaded healthy upstream, then unhealthy ones, then none', () => {
    const a = { id: 'a', healthy: true, inFlight: 3 };
    const b = { id: 'b', healthy: true, inFlight: 1 };
    const c = { id: 'c', healthy: false, inFlight: 0 };
    expect(pickUpstream([a, b, c], 0, null)?.id).toBe('b');
    expect(pickUpstream([a, b, c], 0, [b])?.id).toBe('a');
    expect(pickUpstream([a, b, c], 0, [a, b])?.id).toBe('c');
    expect(pickUpstream([a, b, c], 0, [a, b, c])).toBeUndefined();
  });

  it('rotates between equally loaded upstreams', () => {
    const ups = [0, 1, 2].map((i) => ({ id: i, healthy: true, inFlight: 0 }));
    expect([0, 1, 2, 3].map((r) => pickUpstream(ups, r, null)?.id)).toEqual([0, 1, 2, 0]);
  });
});

describe('route validation', () => {
  it('rejects weights that do not sum to 100 and lists every problem', () => {
    expect(() =>
      parseRoute({ id: 'web', listen: 8080, backends: [{ release: 'a', weight: 60, upstreams: [] }, { release: 'a', weight: 60, upstreams: [] }] }),
    ).toThrow(/sum to 120.*appears twice.*no upstreams/);
    expect(() => parseRoute({ id: 'web', listen: 0, backends: [] })).toThrow(/listen/);
    expect(parseRoute({ id: 'web', listen: 8080, backends: [{ release: 'a', weight: 0, upstreams: [] }] }).id).toBe('web');
  });
});

describe('WebSocket frame boundaries', () => {
  const frame = (payload: number, masked: boolean): Buffer => {
    const len = payload < 126 ? [payload] : payload < 65536 ? [126, payload >> 8, payload & 255] : [127, 0, 0, 0, 0, 0, (payload >> 16) & 255, (payload >> 8) & 255, payload & 255];
    len[0] |= masked ? 0x80 : 0;
    return Buffer.concat([Buffer.from([0x82, ...len]), masked ? Buffer.alloc(4, 7) : Buffer.alloc(0), Buffer.alloc(payload, 1)]);
  };

  it('finds the end of a frame split across chunks', () => {
    const stream = Buffer.concat([frame(300, true), frame(5, true)]);
    const cursor = new FrameCursor();
    expect(cursor.advance(stream.subarray(0, 3), false)).toBe(3);
    expect(cursor.atBoundary).toBe(false);
    expect(cursor.advance(stream.subarray(3, 200), true)).toBe(197);
    const at = cursor.advance(stream.subarray(200), true);
    expect(at).toBe(frame(300, true).length - 200);
    expect(cursor.atBoundary).toBe(true);
  });

  it('handles 64-bit lengths and empty frames', () => {
    const cursor = new FrameCursor();
    const big = frame(70_000, false);
    expect(cursor.advance(big, false)).toBe(big.length);
    expect(cursor.atBoundary).toBe(true);
    expect(cursor.advance(Buffer.from([0x89, 0x00]), true)).toBe(0);
    expect(cursor.advance(Buffer.from([0x89, 0x00]), false)).toBe(2);
    expect(cursor.atBoundary).toBe(true);
  });

  it('finds the end of the 101 response head across chunks', () => {
    const head = new HeadEnd();
    expect(head.find(Buffer.from('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r'))).toBe(-1);
    expect(head.find(Buffer.from('\nXY'))).toBe(1);
    expect(head.status).toBe(101);
  });
});

describe('counters merged across worker processes', () => {
  const part = (release: string, requests: number, samples: number[]): CounterSnapshot => ({
    route: 'web',
    release,
    inFlight: 1,
    longLived: 0,
    requests,
    errors: 1,
    byClass: [0, 0, requests - 1, 0, 0, 1],
    buckets: [requests, 0],
    latencySum: requests / 1000,
    windowRequests: requests,
    windowErrors: 1,
    samples,
  });

  it('sums counters of the same route and release and pools their latency samples', () => {
    const merged = mergeSnapshots([part('blue', 10, [1, 2, 3]), part('green', 4, [9]), part('blue', 6, [4, 5])]);
    const blue = merged.find((c) => c.release === 'blue');
    expect(merged).toHaveLength(2);
    expect(blue).toMatchObject({ inFlight: 2, requests: 16, errors: 2, windowRequests: 16, windowErrors: 2, byClass: [0, 0, 14, 0, 0, 2], buckets: [16, 0] });
    expect(blue?.samples.sort()).toEqual([1, 2, 3, 4, 5]);
    expect(percentiles(blue as CounterSnapshot)).toEqual({ p50Ms: 3, p99Ms: 5 });
    expect(codeClasses(blue as CounterSnapshot)).toEqual([['2xx', 14], ['5xx', 2]]);
    expect(percentiles(part('x', 0, []))).toEqual({ p50Ms: null, p99Ms: null });
  });
});
