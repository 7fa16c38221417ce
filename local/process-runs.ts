/**
 * Whether a process holds a pid: what tells a local cluster's leftovers from a running cluster's
 * (its synthesized assemblies, stale-assemblies.ts; its `.local/cluster.json`, which the CLI reads).
 *
 * A pid alone does not name a process for long: once the process ends, the kernel hands the
 * number to a later one, and a leftover naming it would look live. So the writer records its start
 * time beside its pid (processStart), and a process holding the pid with another start time is
 * not the writer (processRunsAs).
 */
import { readFileSync } from 'node:fs';

/** Whether a process holds `pid`. One of another user counts as running: it cannot be signalled, only seen (EPERM). */
export function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * When the process holding `pid` started, as Linux counts it: field 22 of /proc/<pid>/stat
 * (`starttime`, clock ticks after boot; proc(5)). Fixed for the life of the process, and two
 * processes given the same pid one after the other start at different ticks. Undefined where
 * there is no such file: no process holds the pid, or the system is not Linux (macOS and Windows
 * have no /proc), or /proc hides the process (mounted with hidepid).
 */
export function processStart(pid: number = process.pid): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // Field 2 is the command name in parentheses, which may itself hold spaces and parentheses:
  // the fields after it are counted from the last ')'. Field 3 is the first after it, so 22 is the 20th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const start = Number(fields[19]);
  return Number.isSafeInteger(start) ? start : undefined;
}

/**
 * Whether the process that recorded `pid` and `start` (its processStart) still runs. A process
 * holding the pid with another start time is a later one the pid was given to: not it. Where the
 * start time was not recorded (an older writer, a system without /proc) or cannot be read now,
 * this falls back to the pid probe alone, which a reused pid fools.
 */
export function processRunsAs(pid: number, start: number | undefined): boolean {
  if (!processRuns(pid)) return false;
  if (start === undefined) return true;
  const now = processStart(pid);
  return now === undefined || now === start;
}
