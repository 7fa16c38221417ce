/**
 * A cluster that keeps nothing (`--in-memory`: the tests' and benches' clusters) synthesizes into
 * `.local/cdk.out-<pid>-<time>` and removes it when it stops. One that was killed instead (a test
 * run interrupted, a machine's OOM killer) leaves it behind, a few MB of templates and bundles each.
 * Every start removes those whose process is gone; a running cluster's is never touched.
 */
import { readdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { processRuns } from './process-runs';

const ASSEMBLY = /^cdk\.out-(\d+)-\d+$/;

/** Removes the assembly directories of `stateDir` whose cluster process has ended; answers their names. */
export function removeStaleAssemblies(stateDir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(stateDir);
  } catch {
    return []; // no state directory yet
  }
  const stale = entries.filter((entry) => {
    const pid = ASSEMBLY.exec(entry)?.[1];
    return pid !== undefined && Number(pid) !== process.pid && !processRuns(Number(pid));
  });
  for (const entry of stale) rmSync(path.join(stateDir, entry), { recursive: true, force: true });
  return stale;
}
