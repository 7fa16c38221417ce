/**
 * Whether a process holds a pid: what tells a local cluster's leftovers from a running cluster's
 * (its synthesized assemblies, stale-assemblies.ts; its `.local/cluster.json`, which the CLI reads).
 */

/** Whether a process holds `pid`. One of another user counts as running: it cannot be signalled, only seen (EPERM). */
export function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
