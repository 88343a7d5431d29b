import { createHash } from 'node:crypto';

/** What a boot unit runs: `<node> <cli> agent --state-dir <stateDir>` with the installer's PATH. */
export interface BootUnitInput {
  stateDir: string;
  node: string;
  cli: string;
  path: string;
}

/** One unit per state dir: `symphony-agent-<12 hex of the state dir>`. */
export function unitName(stateDir: string): string {
  return `symphony-agent-${createHash('sha256').update(stateDir).digest('hex').slice(0, 12)}`;
}

const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
const systemdQuote = (s: string): string => (/^[\w@%+=:,./-]+$/.test(s) ? s : `"${s.replace(/(["\\])/g, '\\$1')}"`);

/**
 * A systemd service that starts the agent at boot; the agent brings the stack back
 * (./boot.ts). KillMode=process: stopping the unit stops the agent only, never the
 * instances or the router it supervises (they are adopted by the next agent).
 */
export function systemdUnit(u: BootUnitInput): string {
  return [
    '[Unit]',
    `Description=Symphony agent for ${u.stateDir}`,
    'After=network.target',
    '',
    '[Service]',
    'Type=simple',
    `Environment=PATH=${systemdQuote(u.path)}`,
    `ExecStart=${[u.node, u.cli, 'agent', '--state-dir', u.stateDir].map(systemdQuote).join(' ')}`,
    'KillMode=process',
    'Restart=always',
    'RestartSec=1',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

/**
 * A plain init script (LSB headers, start|stop|restart|status) for machines without
 * systemd: `start` runs the agent in its own session and waits for its control socket.
 */
export function initScript(u: BootUnitInput): string {
  const name = unitName(u.stateDir);
  const dir = shellQuote(u.stateDir);
  return `#!/bin/sh
### BEGIN INIT INFO
# Provides:          ${name}
# Required-Start:    $local_fs $network
# Required-Stop:     $local_fs
# Default-Start:     2 3 4 5
# Default-Stop:      0 1 6
# Short-Description: Symphony agent for ${u.stateDir}
### END INIT INFO
PATH=${shellQuote(u.path)}
export PATH
STATE_DIR=${dir}
PIDFILE="$STATE_DIR/agent.pid"

# A live agent: its pid file names a process that is not a zombie (a killed process whose
# parent has not reaped it yet still answers kill -0).
running() {
  [ -S "$STATE_DIR/agent.sock" ] && [ -f "$PIDFILE" ] || return 1
  pid=$(cat "$PIDFILE")
  [ -r "/proc/$pid/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$pid/status"
}

case "$1" in
  start)
    if running; then echo "${name}: already running (pid $(cat "$PIDFILE"))"; exit 0; fi
    setsid ${shellQuote(u.node)} ${shellQuote(u.cli)} agent --state-dir "$STATE_DIR" >>"$STATE_DIR/agent.out" 2>&1 </dev/null &
    i=0
    while [ $i -lt 100 ]; do
      if running; then echo "${name}: started (pid $(cat "$PIDFILE"))"; exit 0; fi
      i=$((i + 1)); sleep 0.1
    done
    echo "${name}: did not start; see $STATE_DIR/agent.out" >&2; exit 1
    ;;
  stop)
    if running; then kill "$(cat "$PIDFILE")"; fi
    echo "${name}: stopped (instances and router keep running)"
    ;;
  restart) "$0" stop; sleep 1; "$0" start ;;
  status)
    if running; then echo "${name}: running (pid $(cat "$PIDFILE"))"; else echo "${name}: not running"; exit 3; fi
    ;;
  *) echo "usage: $0 start|stop|restart|status" >&2; exit 2 ;;
esac
`;
}
