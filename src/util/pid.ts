/** Whether a process with this pid exists (signal 0: nothing is sent). Pids are reused: pair with a start time where identity matters. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
