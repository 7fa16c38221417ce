/**
 * `.local/cluster.json`: where `npx geocluster` run in this checkout finds the persisted
 * `npm start` (its URL, its credentials table, the names it declares). The file records the pid
 * of the process that runs the cluster and, on Linux, that process's start time (`pidStart`,
 * local/process-runs.ts), and that process removes it when it stops, so the file never outlives
 * the cluster it describes for long: one left by a process that was killed instead names a pid no
 * process holds, or one a later process was given (another start time), which the CLI tells
 * apart and says so (cli/main.ts).
 *
 * Each checkout has its own `.local/`, so clusters run from other checkouts never meet this
 * file; a second cluster of the same checkout (an `--in-memory` one) never writes it. The file is
 * removed only while it still records this process: a later run that wrote its own is left alone.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { processRunsAs, processStart } from './process-runs';

export const CLUSTER_FILE = 'cluster.json';

/** What the file holds beside the writer's pid. */
export interface LocalClusterFile {
  readonly url: string;
  readonly credentialsTable: string;
  readonly dynamoEndpoint: string;
  readonly masters: readonly string[];
  readonly names: readonly string[];
}

/**
 * Writes `stateDir`/cluster.json for this process; answers the function that removes it when the
 * cluster stops. `pidStart` is left out where the start time cannot be read (not Linux).
 */
export function writeClusterFile(stateDir: string, contents: LocalClusterFile, pid = process.pid): () => void {
  const file = path.join(stateDir, CLUSTER_FILE);
  writeFileSync(file, `${JSON.stringify({ ...contents, pid, pidStart: processStart(pid) }, null, 2)}\n`);
  return () => {
    let written: { pid?: unknown };
    try {
      written = JSON.parse(readFileSync(file, 'utf8')) as { pid?: unknown };
    } catch {
      return; // gone already, or not this run's any more
    }
    if (written.pid === pid) rmSync(file, { force: true });
  };
}

/**
 * The cluster `stateDir`/cluster.json names, when the process that wrote it still runs: another
 * `npm start` of this checkout, using the data in `stateDir`. Undefined when there is no file, or
 * its process has ended (a stale file, which the next run overwrites), or it records no pid.
 */
export function runningClusterFile(stateDir: string): { url: unknown; pid: number } | undefined {
  let written: { url?: unknown; pid?: unknown; pidStart?: unknown };
  try {
    written = JSON.parse(readFileSync(path.join(stateDir, CLUSTER_FILE), 'utf8')) as typeof written;
  } catch {
    return undefined; // none, or not one a run wrote
  }
  return typeof written.pid === 'number' && writerRuns(written) ? { url: written.url, pid: written.pid } : undefined;
}

/**
 * Whether the run that wrote a cluster file, as read, still runs: its pid is held by a process
 * started when it recorded (`pidStart`, where it did). A file without a pid (an older run's)
 * names no process, and counts as running.
 */
export function writerRuns(written: { readonly pid?: unknown; readonly pidStart?: unknown }): boolean {
  return typeof written.pid !== 'number' || processRunsAs(written.pid, typeof written.pidStart === 'number' ? written.pidStart : undefined);
}

export const START_LOCK_FILE = 'cluster.lock';

/**
 * Takes `stateDir`/cluster.lock for this process, from the first thing a persisted (or --fresh)
 * start does until its cluster stops: cluster.json is written only once the API listens, and a
 * second start in the seconds before (synthesizing, starting the emulators) would otherwise wipe
 * the data under the first (--fresh), rewrite its assembly, or run a second DynamoDB Local on its
 * data folder. The file is created exclusively; one whose writer has ended (killed) is taken
 * over. Answers the function that releases it, or the pid of the run that holds it.
 */
export function takeStartLock(stateDir: string, pid = process.pid): { release: () => void } | { heldBy: number } {
  const file = path.join(stateDir, START_LOCK_FILE);
  mkdirSync(stateDir, { recursive: true });
  for (let attempt = 0; attempt < 3; attempt += 1) {
    try {
      writeFileSync(file, `${JSON.stringify({ pid, pidStart: processStart(pid) })}\n`, { flag: 'wx', mode: 0o600 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      let written: { pid?: unknown; pidStart?: unknown } = {};
      try {
        written = JSON.parse(readFileSync(file, 'utf8')) as typeof written;
      } catch {
        // Being written by the run that just created it, or cut short: read again below.
      }
      if (typeof written.pid === 'number' && writerRuns(written)) return { heldBy: written.pid };
      if (typeof written.pid === 'number' || attempt > 0) rmSync(file, { force: true });
      continue;
    }
    return {
      release: () => {
        try {
          if ((JSON.parse(readFileSync(file, 'utf8')) as { pid?: unknown }).pid === pid) rmSync(file, { force: true });
        } catch {
          // gone already
        }
      },
    };
  }
  throw new Error(`Could not take ${file}: remove it if no npm start of this checkout runs`);
}
