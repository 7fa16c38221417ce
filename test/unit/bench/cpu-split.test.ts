import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { once } from 'node:events';
import { ClusterCpu, cpuMs, describeCpuSplit } from '../../../bench/cpu-split';

describe('cpuMs (a /proc stat line)', () => {
  it('reads utime + stime in ms, whatever the name in parentheses holds', () => {
    // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
    const stat = '4242 (Worker) (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 37 5 0 0 20 0 11 0';
    expect(cpuMs(stat)).toBe(420);
  });
});

// A process standing in for the cluster: its main thread, then a thread it starts after it was
// found (as the functions' workers are), each spend a known amount of their own CPU time.
const STAND_IN = `
const { Worker } = require('node:worker_threads');
const burn = (ms) => { const spent = () => { const u = process.threadCpuUsage(); return (u.user + u.system) / 1000; }; const end = spent() + ms; while (spent() < end); };
process.stdin.once('data', () => {
  burn(150);
  const worker = new Worker('const burn = ' + burn + "; burn(300); require('node:worker_threads').parentPort.postMessage('done'); setInterval(() => {}, 1000);", { eval: true });
  worker.once('message', () => process.stdout.write('done\\n'));
});
process.stdout.write('ready\\n');
setInterval(() => {}, 1000);
`;

const linux = existsSync('/proc/self/task');

(linux ? describe : describe.skip)('ClusterCpu (CPU per part of a spawned cluster, from /proc)', () => {
  let child: ChildProcessWithoutNullStreams | undefined;
  afterEach(() => {
    child?.kill();
  });

  it("puts the main thread's CPU and that of a thread started later each in its own part", async () => {
    // The entry is an argument the stand-in ignores, so its command line names it as the cluster's does.
    child = spawn(process.execPath, ['-e', STAND_IN, 'stand-in/start.ts']);
    await once(child.stdout, 'data');
    const cpu = ClusterCpu.find(process.pid, 'stand-in/start.ts');
    expect(cpu).toBeDefined();
    const stretch = cpu!.start();
    child.stdin.write('go\n');
    const [line] = (await once(child.stdout, 'data')) as [Buffer];
    expect(line.toString()).toBe('done\n');
    const split = stretch.end();
    // Ticks are 10 ms; the burns are of each thread's own CPU time, so a busy machine does not move them.
    expect(split.functionThreads).toBeGreaterThanOrEqual(280);
    expect(split.functionThreads).toBeLessThan(600);
    expect(split.runtimeMain).toBeGreaterThanOrEqual(130);
    expect(split.runtimeMain).toBeLessThan(500);
    // No JVM below this process: no DynamoDB Local share.
    expect(split.dynamoDbLocal).toBe(0);
    expect(describeCpuSplit(split, 10)).toMatch(/^CPU per event \d+\.\d ms: the local runtime's main thread .* the functions' threads (2[89]|[3-5]\d)\.\d, /);
  });

  it('finds nothing when no process below runs the entry', () => {
    expect(ClusterCpu.find(process.pid, 'no-such-entry.ts')).toBeUndefined();
  });
});
