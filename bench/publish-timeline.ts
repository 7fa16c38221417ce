/**
 * Where a sequential change's time goes in the local cluster, from the publish request to the
 * last node's apply: a master and three slaves (the propagation figures' 3 nodes), the cluster
 * in this process with the IAM gate off, as the timed figures run it. One change at a time,
 * a pause between them so each starts on quiet cores; every function invocation the change
 * causes is placed on the request's timeline (when the runtime was asked to invoke it and when
 * the invocation ended, ms from the request's start, medians):
 *   the request through the API | PublishEvent's invocation (its handler and the worker hop) |
 *   each consumer's invocation: a slave's apply function, and the master-stores queue's
 *   consumer, which applies the pure master's own store and marks the event published.
 * The gap between the request and PublishEvent's invocation is the API emulation (routing, the
 * cached authorizer, the event); a consumer's start is the SNS-to-SQS fan-out plus its poller's
 * receive. Beside each function, the CPU its thread spent per invocation (GET /__local/functions):
 * with four consumers at once on two cores, a step's length is mostly waiting for a core.
 * Diagnostic, no goal: it says which step a change waits on.
 *
 *   npm run bench -- --only publish-timeline [--profile-requests 200]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { cdkJsonContext } from '../cdk/app';
import { startLocalCluster } from '../local/cluster';
import { median } from './profile';
import { functionCpuOf, functionCpuSince } from './propagation';

interface Invocation {
  readonly fn: string;
  readonly startedAt: number;
  readonly endedAt: number;
}

const PAUSE_MS = 100;

export async function benchPublishTimeline(options: { requests: number }): Promise<void> {
  const scratch = mkdtempSync(path.join(tmpdir(), 'sgc-timeline-'));
  const slaves = ['slave-1', 'slave-2', 'slave-3'];
  const invocations: Invocation[] = [];
  const cluster = await startLocalCluster({
    port: 0,
    dynamoPort: 0,
    awsPort: 0,
    persist: false,
    enforceIam: false,
    runSchedules: false,
    functionLogFile: path.join(scratch, 'functions.log'),
    context: { ...cdkJsonContext(), cluster: { name: 'timeline', nodes: [{ name: 'master-1', role: 'master' }, ...slaves.map((name) => ({ name, role: 'slave' }))] } },
    onInvocation: (fn, startedAt, endedAt) => invocations.push({ fn, startedAt, endedAt }),
  });
  try {
    const token = cluster.tokens['master-1'];
    const run = Date.now().toString(36);
    const publish = async (n: number) => {
      const id = `tl${run}_${n}`;
      const response = await fetch(`${cluster.url}/config/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ kind: 'add', object: { type: 'workspace', id }, properties: { name: id, isolated: false } }),
      });
      const body = await response.text();
      if (response.status !== 201) throw new Error(`publish answered ${response.status}: ${body}`);
    };
    const warmUp = Math.max(30, Math.floor(options.requests / 4));
    for (let n = 0; n < warmUp; n++) {
      await publish(-1 - n);
      await new Promise((resolve) => setTimeout(resolve, PAUSE_MS / 4));
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));

    const usageBefore = await functionCpuOf(cluster.url);
    const requestMs: number[] = [];
    const steps = new Map<string, { start: number[]; end: number[] }>();
    const lastEnd: number[] = [];
    let complete = 0;
    for (let n = 0; n < options.requests; n++) {
      invocations.length = 0;
      const started = performance.now();
      await publish(n);
      const answered = performance.now() - started;
      // Every consumer's invocation of this change has ended once the pause is over (a change
      // is applied everywhere within a few tens of ms here); the ones still running are not counted.
      await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
      requestMs.push(answered);
      const seen = new Set<string>();
      let last = answered;
      for (const invocation of invocations) {
        // The first invocation of each function after the request: its delivery of this change.
        if (invocation.startedAt < started || seen.has(invocation.fn)) continue;
        seen.add(invocation.fn);
        const step = steps.get(invocation.fn) ?? { start: [], end: [] };
        step.start.push(invocation.startedAt - started);
        step.end.push(invocation.endedAt - started);
        steps.set(invocation.fn, step);
        last = Math.max(last, invocation.endedAt - started);
      }
      if (seen.size >= slaves.length + 2) complete += 1;
      lastEnd.push(last);
    }

    const usage = new Map(functionCpuSince(usageBefore, await functionCpuOf(cluster.url)).map((entry) => [entry.function, entry]));
    const cpuPerInvocation = (fn: string) => {
      const spent = usage.get(fn);
      return spent ? `, its thread's CPU ${(spent.cpuMs / spent.invocations).toFixed(1)} ms` : '';
    };
    const ms = (value: number) => value.toFixed(1).padStart(7);
    console.log(
      `\nTimeline of a sequential change in the local cluster (a master and ${slaves.length} slaves, in this process, IAM gate off; ${options.requests} changes one at a time, ${PAUSE_MS} ms apart; ms from the request's start, medians)`,
    );
    console.log(`  ${'request through the API, answered'.padEnd(44)} ${ms(0)} -> ${ms(median(requestMs))}`);
    const order = [...steps.entries()].sort((a, b) => median(a[1].start) - median(b[1].start));
    for (const [fn, step] of order) {
      const took = median(step.end.map((end, i) => end - (step.start[i] as number)));
      console.log(`  ${fn.padEnd(44)} ${ms(median(step.start))} -> ${ms(median(step.end))}   (${took.toFixed(1)} ms${cpuPerInvocation(fn)}; ${step.start.length} of ${options.requests} changes)`);
    }
    console.log(`  ${'the last invocation a change caused, ended'.padEnd(44)} ${ms(0)} -> ${ms(median(lastEnd))}   (every function seen in ${complete} of ${options.requests} changes)`);
  } finally {
    await cluster.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}
