/**
 * Where the CPU of a stretch of a bench went: the local cluster's process thread by thread, the
 * DynamoDB Local JVM beside it, and the bench's own process. On two cores shared by all of them a
 * throughput figure is bounded by the CPU each event costs in all, so this says which part of the
 * machine a burst spends it in (a diagnostic, printed beside the burst figure).
 *
 * Read by hand from Linux's /proc (per-thread `utime` + `stime` of another process): Node has no
 * API for another process's threads, and no npm package reads them. Elsewhere than Linux it reads
 * nothing and says so.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';

/** Linux's USER_HZ, the unit of /proc's CPU times: 100 on every architecture Node runs on. */
const TICK_MS = 10;

/** CPU milliseconds per part. */
export interface CpuSplit {
  /** The cluster process's main thread: the HTTP API, the authorizers' dispatch, the queue pollers, the SNS/SQS emulator. */
  readonly runtimeMain: number;
  /** Threads started after the cluster was ready, but the thread pool's: the functions' worker threads (one per function). */
  readonly functionThreads: number;
  /** The cluster process's other threads: V8's compiler and garbage-collector helpers, libuv's thread pool. */
  readonly helperThreads: number;
  /** The DynamoDB Local JVM, all threads. */
  readonly dynamoDbLocal: number;
  /** Of it, the thread that runs every SQLite statement, one at a time. */
  readonly dynamoDbWriter: number;
  /** The bench process itself (its publishers, receivers and observers). */
  readonly bench: number;
}

interface ThreadTimes {
  readonly pid: number;
  readonly tid: number;
  readonly name: string;
  readonly ms: number;
}

function read(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined; // the thread or process ended meanwhile
  }
}

/** utime + stime of a /proc stat line (fields 14 and 15; the name in parentheses may hold spaces). */
export function cpuMs(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}

function parentOf(pid: number): number | undefined {
  const stat = read(`/proc/${pid}/stat`);
  return stat === undefined ? undefined : Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

/** Every process below `root`. */
function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const parent = parentOf(pid);
    if (parent !== undefined) children.set(parent, [...(children.get(parent) ?? []), pid]);
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift() as number) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

function threads(pid: number): ThreadTimes[] {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  return tids.flatMap((entry) => {
    const tid = Number(entry);
    const stat = read(`/proc/${pid}/task/${tid}/stat`);
    const name = read(`/proc/${pid}/task/${tid}/comm`)?.trim();
    return stat === undefined || name === undefined ? [] : [{ pid, tid, name, ms: cpuMs(stat) }];
  });
}

/**
 * The processes of a spawned local cluster (`spawnLocalCluster`'s child is the tsx launcher):
 * the Node process that runs the cluster, and DynamoDB Local's JVM.
 */
export class ClusterCpu {
  private constructor(
    private readonly runtimePid: number,
    private readonly javaPid: number | undefined,
    /** Threads the cluster process had when it became ready, before any function ran. */
    private readonly startupThreads: ReadonlySet<number>,
  ) {}

  /**
   * Undefined where /proc cannot be read (not Linux). `entry`: what the cluster process's command
   * line holds (the tsx launcher's child runs the same entry).
   */
  static find(launcherPid: number, entry = 'local/start.ts'): ClusterCpu | undefined {
    if (!existsSync('/proc/self/task')) return undefined;
    const below = descendants(launcherPid);
    const name = (pid: number) => read(`/proc/${pid}/comm`)?.trim();
    const runtime = below.find((pid) => name(pid) === 'node' && read(`/proc/${pid}/cmdline`)?.includes(entry));
    if (runtime === undefined) return undefined;
    const java = below.find((pid) => name(pid) === 'java');
    return new ClusterCpu(runtime, java, new Set(threads(runtime).map((thread) => thread.tid)));
  }

  /** Starts a stretch; its `end()` answers the CPU each part spent in it. */
  start(): { end(): CpuSplit } {
    const before = this.sample();
    const benchBefore = process.cpuUsage();
    return {
      end: () => {
        const benchSpent = process.cpuUsage(benchBefore);
        const after = this.sample();
        const spent = (part: (thread: ThreadTimes) => boolean) =>
          [...after.values()].filter(part).reduce((sum, thread) => sum + thread.ms - (before.get(thread.tid)?.ms ?? 0), 0);
        const runtime = (thread: ThreadTimes) => thread.pid === this.runtimePid;
        const isFunction = (thread: ThreadTimes) => runtime(thread) && thread.tid !== this.runtimePid && !this.startupThreads.has(thread.tid) && thread.name !== 'libuv-worker';
        return {
          runtimeMain: spent((thread) => thread.tid === this.runtimePid),
          functionThreads: spent(isFunction),
          helperThreads: spent((thread) => runtime(thread) && thread.tid !== this.runtimePid && !isFunction(thread)),
          dynamoDbLocal: spent((thread) => thread.pid === this.javaPid),
          dynamoDbWriter: spent((thread) => thread.pid === this.javaPid && thread.name.startsWith('SQLiteQueue')),
          bench: (benchSpent.user + benchSpent.system) / 1000,
        };
      },
    };
  }

  private sample(): Map<number, ThreadTimes> {
    const all = [...threads(this.runtimePid), ...(this.javaPid === undefined ? [] : threads(this.javaPid))];
    return new Map(all.map((thread) => [thread.tid, thread]));
  }
}

/** The split as one line, per event of `events`. */
export function describeCpuSplit(split: CpuSplit, events: number): string {
  const per = (ms: number) => (ms / events).toFixed(1);
  const total = split.runtimeMain + split.functionThreads + split.helperThreads + split.dynamoDbLocal + split.bench;
  return (
    `CPU per event ${per(total)} ms: the local runtime's main thread (HTTP API, queue pollers, SNS/SQS emulator) ${per(split.runtimeMain)}, ` +
    `the functions' threads ${per(split.functionThreads)}, V8's and libuv's helper threads ${per(split.helperThreads)}, ` +
    `DynamoDB Local ${per(split.dynamoDbLocal)} (its one SQLite thread ${per(split.dynamoDbWriter)}), the bench ${per(split.bench)}`
  );
}
