import { statSync } from 'node:fs';

/**
 * Which directory a path names now (device and inode), or `gone`. A daemon serving a dir
 * compares it with what it was at start: a dir deleted and made again by someone else is
 * not the one it served.
 */
export function dirIdentity(dir: string): string {
  try {
    const st = statSync(dir);
    return `${st.dev}:${st.ino}`;
  } catch {
    return 'gone';
  }
}
