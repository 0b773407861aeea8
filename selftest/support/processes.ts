/**
 * The processes a self-test started, read from /proc: a run's whole tree (detached store servers
 * included), and which of them still run, so a test can prove that nothing outlived it.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export interface ProcessInfo {
  pid: number;
  ppid: number;
  /** Start time in clock ticks since boot: a pid reused by another process has another one. */
  started: string;
  state: string;
  command: string;
  cwd?: string;
}

export function processTable(): Map<number, ProcessInfo> {
  const table = new Map<number, ProcessInfo>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      let cwd: string | undefined;
      try {
        cwd = readlinkSync(`/proc/${name}/cwd`);
      } catch {
        // another user's process, or gone
      }
      const command = readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      table.set(Number(name), { pid: Number(name), ppid: Number(fields[1]), state: fields[0] ?? '?', started: fields[19] ?? '', command, cwd });
    } catch {
      // exited while we looked
    }
  }
  return table;
}

/** `root` and every process below it, by parent pid (detached store servers included). */
export function descendantsOf(root: number): ProcessInfo[] {
  const table = processTable();
  const found = new Set<number>([root]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const info of table.values()) {
      if (!found.has(info.pid) && found.has(info.ppid)) {
        found.add(info.pid);
        grew = true;
      }
    }
  }
  return [...found].flatMap((pid) => table.get(pid) ?? []);
}

/** Still running: same pid and start time, not a zombie (which holds nothing but its pid). */
export function stillRunning(seen: readonly ProcessInfo[]): string[] {
  const table = processTable();
  return seen.filter((p) => {
    const now = table.get(p.pid);
    return now !== undefined && now.started === p.started && now.state !== 'Z';
  }).map((p) => `${p.pid} ${p.command.slice(0, 100)}`);
}
