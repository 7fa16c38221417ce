/**
 * A cluster that keeps nothing (`--in-memory`: the tests' and benches' clusters) synthesizes into
 * `.local/cdk.out-<pid>-<start>-<time>` (assemblyDirName; `<start>` is the process's start time,
 * local/process-runs.ts, left out where it cannot be read) and removes it when it stops. One that
 * was killed instead (a test run interrupted, a machine's OOM killer) leaves it behind, a few MB of
 * templates and bundles each. Every start removes those whose process is gone, its pid free or
 * given to a later process; a running cluster's is never touched.
 */
import { readdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { processRunsAs, processStart } from './process-runs';

/** pid, start time when recorded (not in an older run's name, nor where /proc is missing), creation time. */
const ASSEMBLY = /^cdk\.out-(\d+)(?:-(\d+))?-\d+$/;

/** The assembly directory name of an in-memory cluster run by `runner` (by default this process), made at `now`. */
export function assemblyDirName(runner: { pid: number; start: number | undefined } = { pid: process.pid, start: processStart() }, now = Date.now()): string {
  return runner.start === undefined ? `cdk.out-${runner.pid}-${now}` : `cdk.out-${runner.pid}-${runner.start}-${now}`;
}

/** Removes the assembly directories of `stateDir` whose cluster process has ended; answers their names. */
export function removeStaleAssemblies(stateDir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(stateDir);
  } catch {
    return []; // no state directory yet
  }
  const stale = entries.filter((entry) => {
    const match = ASSEMBLY.exec(entry);
    if (!match) return false;
    const [pid, start] = [Number(match[1]), match[2] === undefined ? undefined : Number(match[2])];
    return pid !== process.pid && !processRunsAs(pid, start);
  });
  for (const entry of stale) rmSync(path.join(stateDir, entry), { recursive: true, force: true });
  return stale;
}
