import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { RuntimeError } from '../../errors.js';
import type { Engine } from './engine.js';

const RELAY_MAIN = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? './relay-main.ts' : './relay-main.js', import.meta.url));

export const relayFiles = (stateDir: string): { dir: string; ports: string; pid: string; out: string } => {
  const dir = join(stateDir, 'container');
  return { dir, ports: join(dir, 'relay.json'), pid: join(dir, 'relay.pid'), out: join(dir, 'relay.out') };
};

function relayRuns(pidFile: string): boolean {
  try {
    const pid = Number(readFileSync(pidFile, 'utf8'));
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('relay-main');
  } catch {
    return false;
  }
}

const accepts = (host: string, port: number): Promise<boolean> =>
  new Promise((res) => {
    const s = connect(port, host);
    s.once('connect', () => (s.destroy(), res(true)));
    s.once('error', () => res(false));
  });

/** The address containers on the default bridge reach the host by (`host-gateway`). */
export async function bridgeGateway(engine: Engine): Promise<string> {
  const net = await engine.docker.getNetwork('bridge').inspect();
  const configured = (net.IPAM?.Config ?? []).map((c: { Gateway?: string }) => c.Gateway).find((g: string | undefined) => g && /^\d+\.\d+\.\d+\.\d+$/.test(g));
  // dockerd leaves the default bridge's gateway out of IPAM: it is the address of the bridge interface.
  const ifname = (net.Options as Record<string, string> | undefined)?.['com.docker.network.bridge.name'] ?? 'docker0';
  // (listed by the OS only while a container is attached), or dockerd's pick, the subnet's first address.
  const gw = configured ?? networkInterfaces()[ifname]?.find((a) => a.family === 'IPv4')?.address ?? firstHost(net.IPAM?.Config?.[0]?.Subnet);
  if (!gw) throw new RuntimeError(`the engine's bridge network (${ifname}) has no IPv4 gateway`, 'containers cannot reach services on 127.0.0.1; check the engine\'s default bridge (docker network inspect bridge)');
  return gw;
}

/** `172.17.0.1` of `172.17.0.0/16`. */
function firstHost(subnet: string | undefined): string | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/\d+$/.exec(subnet ?? '');
  return m ? `${m[1]}.${m[2]}.${m[3]}.${Number(m[4]) + 1}` : undefined;
}

/**
 * Make the host's 127.0.0.1:<port> reachable from containers at the bridge
 * gateway on the same port: adds the ports to the state dir's relay (a
 * detached process, started when none runs) and waits until it accepts on each.
 */
export async function ensureRelay(engine: Engine, stateDir: string, ports: number[]): Promise<void> {
  if (ports.length === 0) return;
  const f = relayFiles(stateDir);
  mkdirSync(f.dir, { recursive: true, mode: 0o700 });
  let known: number[] = [];
  try {
    known = (JSON.parse(readFileSync(f.ports, 'utf8')) as { ports: number[] }).ports;
  } catch {
    /* first port */
  }
  const all = [...new Set([...known, ...ports])].sort((a, b) => a - b);
  writeFileSync(`${f.ports}.tmp`, JSON.stringify({ ports: all }), { mode: 0o600 });
  renameSync(`${f.ports}.tmp`, f.ports);
  const host = await bridgeGateway(engine);
  if (!relayRuns(f.pid)) {
    const out = (await import('node:fs')).openSync(f.out, 'a', 0o600);
    const child = spawn(process.execPath, [...(RELAY_MAIN.endsWith('.ts') ? ['--import', 'tsx'] : []), RELAY_MAIN, stateDir, host], { detached: true, stdio: ['ignore', out, out] });
    child.unref();
  }
  for (const p of ports) {
    const deadline = Date.now() + 10_000;
    while (!(await accepts(host, p))) {
      if (Date.now() > deadline) throw new RuntimeError(`the container relay does not accept on ${host}:${p}`, `look at ${f.out}`);
      await sleep(50);
    }
  }
}
