import { MemoryEventLog } from '../../../lambdas/config-sync/adapters/memory';
import {
  missingEvents,
  NUDGE_MIN_AGE_MS,
  nudgeDecision,
  nudgeDeduplicationId,
  nudgeLaggingNodes,
  type MeasuredNode,
  type NudgeDeps,
  type NudgeFacts,
} from '../../../lambdas/config-sync/catch-up-nudge';
import { deduplicationId, type DeliveredEvent, type PublishedEvent } from '../../../lambdas/config-sync/events';
import { STALE_AFTER_MS } from '../../../lambdas/config-sync/jobs';
import { CLUSTER } from './fixtures';

const NOW = Date.parse('2026-03-01T12:00:00.000Z');
const at = (msAgo: number) => new Date(NOW - msAgo).toISOString();

const event = (sequence: number, publishedAt = at(5 * 60_000)): PublishedEvent => ({
  sequence,
  cluster: CLUSTER,
  origin: 'master-1',
  publishedAt,
  kind: 'add',
  object: { type: 'workspace', id: `ws-${sequence}` },
  properties: { name: `ws-${sequence}` },
});

/** Facts under which a node is nudged with event 7; each test changes one. */
const nudgeable: NudgeFacts = {
  consumes: true,
  lag: 3,
  progress: { cursor: 4 },
  paused: false,
  queues: { queueDepth: 0, deadLetterDepth: 0 },
  missing: { firstWrittenAt: NOW - NUDGE_MIN_AGE_MS, nudge: event(7) },
  latestJob: null,
};

describe('whether the lag measure nudges a node', () => {
  it('nudges a consuming node behind the log with everything clear, with the event the log gives', () => {
    expect(nudgeDecision(nudgeable, NOW)).toEqual({ kind: 'nudge', event: event(7) });
  });

  it('reports nothing for a pure master (no queue: the republish schedule catches it up) or a node at the head', () => {
    expect(nudgeDecision({ ...nudgeable, consumes: false }, NOW)).toEqual({ kind: 'none' });
    expect(nudgeDecision({ ...nudgeable, lag: 0 }, NOW)).toEqual({ kind: 'none' });
  });

  it('skips a node held by a resync, paused, with a message queued, in flight or dead-lettered, or lacking only a recent event', () => {
    const cases: [Partial<NudgeFacts>, string][] = [
      [{ progress: { cursor: 4, heldBy: 'job-1' } }, 'held'],
      [{ paused: true }, 'paused'],
      [{ queues: { queueDepth: 1, deadLetterDepth: 0 } }, 'queue-not-empty'],
      [{ queues: { queueDepth: 0, deadLetterDepth: 2 } }, 'dead-letters'],
      [{ missing: { firstWrittenAt: NOW - NUDGE_MIN_AGE_MS + 1, nudge: event(7) } }, 'in-flight'],
      [{ missing: { firstWrittenAt: NOW - NUDGE_MIN_AGE_MS, nudge: undefined } }, 'nothing-to-send'],
    ];
    for (const [change, reason] of cases) expect(nudgeDecision({ ...nudgeable, ...change }, NOW)).toEqual({ kind: 'skip', reason });
    // An age that cannot be told (a clock that is no instant) is taken as young.
    expect(nudgeDecision(nudgeable, Number.NaN)).toEqual({ kind: 'skip', reason: 'in-flight' });
  });

  it('skips a node whose latest job is running or queued, not one whose job ended or went stale', () => {
    const job = (state: 'queued' | 'running' | 'succeeded' | 'failed', savedMsAgo: number) => ({ latestJob: { state, updatedAt: at(savedMsAgo) } });
    expect(nudgeDecision({ ...nudgeable, ...job('running', 1000) }, NOW)).toEqual({ kind: 'skip', reason: 'job-running' });
    expect(nudgeDecision({ ...nudgeable, ...job('queued', 1000) }, NOW)).toEqual({ kind: 'skip', reason: 'job-running' });
    expect(nudgeDecision({ ...nudgeable, ...job('succeeded', 1000) }, NOW).kind).toBe('nudge');
    expect(nudgeDecision({ ...nudgeable, ...job('failed', 1000) }, NOW).kind).toBe('nudge');
    expect(nudgeDecision({ ...nudgeable, ...job('running', STALE_AFTER_MS) }, NOW).kind).toBe('nudge');
  });

  it('asks for each fact only once the ones before it left the node a candidate: pause, queues, the log, the job', () => {
    const { paused: _p, queues: _q, missing: _m, latestJob: _j, ...known } = nudgeable;
    expect(nudgeDecision(known, NOW)).toEqual({ kind: 'read', fact: 'paused' });
    expect(nudgeDecision({ ...known, paused: false }, NOW)).toEqual({ kind: 'read', fact: 'queues' });
    expect(nudgeDecision({ ...known, paused: false, queues: nudgeable.queues! }, NOW)).toEqual({ kind: 'read', fact: 'missing' });
    expect(nudgeDecision({ ...known, paused: false, queues: nudgeable.queues!, missing: nudgeable.missing! }, NOW)).toEqual({ kind: 'read', fact: 'latestJob' });
    // A held node needs no read at all.
    expect(nudgeDecision({ ...known, progress: { cursor: 4, heldBy: 'job-1' } }, NOW)).toEqual({ kind: 'skip', reason: 'held' });
  });
});

describe("what the log says of a node's missing events", () => {
  const unreadable = (sequence: number): DeliveredEvent => ({ sequence, cluster: CLUSTER, origin: 'master-1', publishedAt: at(90_000), unreadable: true, reason: 'not a valid event' });
  const voided = (sequence: number): DeliveredEvent => ({ sequence, cluster: CLUSTER, origin: 'log', publishedAt: at(70_000), voided: true });

  it("times them by the first sequence the node lacks, and sends the log's last event", () => {
    expect(missingEvents(event(5, at(120_000)), event(9, at(1000)))).toEqual({ firstWrittenAt: NOW - 120_000, nudge: event(9, at(1000)) });
    // A void first: its time (when it was closed), and still the last event.
    expect(missingEvents(voided(5), event(9))).toEqual({ firstWrittenAt: NOW - 70_000, nudge: event(9) });
  });

  it("times a hole (no item) by the last event, and sends the first missing event when the last cannot be sent", () => {
    expect(missingEvents(undefined, event(9, at(80_000)))).toEqual({ firstWrittenAt: NOW - 80_000, nudge: event(9, at(80_000)) });
    expect(missingEvents(event(5), unreadable(9))).toEqual({ firstWrittenAt: Date.parse(event(5).publishedAt), nudge: event(5) });
    expect(missingEvents(voided(5), unreadable(9)).nudge).toBeUndefined();
    // Nothing at either end: never old enough.
    expect(missingEvents(undefined, undefined)).toEqual({ firstWrittenAt: Number.POSITIVE_INFINITY, nudge: undefined });
  });
});

describe("the nudge's deduplication id", () => {
  it("differs from the topic's for the same event, and per minute of the run", () => {
    const id = nudgeDeduplicationId(event(7), NOW);
    expect(id).not.toBe(deduplicationId(event(7)));
    expect(id).toBe(nudgeDeduplicationId(event(7), NOW + 59_999 - (NOW % 60_000)));
    expect(id).not.toBe(nudgeDeduplicationId(event(7), NOW + 60_000));
    expect(id).not.toBe(nudgeDeduplicationId(event(8), NOW));
    expect(id.length).toBeLessThanOrEqual(128);
  });
});

describe('a run of nudges', () => {
  const draft = (id: string, publishedAt: string) => ({
    cluster: CLUSTER,
    origin: 'master-1',
    publishedAt,
    kind: 'add' as const,
    object: { type: 'workspace' as const, id },
    properties: { name: id },
  });

  async function setUp() {
    const log = new MemoryEventLog();
    for (let index = 1; index <= 6; index += 1) await log.append(draft(`ws-${index}`, at(index <= 5 ? 10 * 60_000 : 10_000)));
    const sent: { node: string; sequence: number; id: string }[] = [];
    const reads: string[] = [];
    const deps: NudgeDeps = {
      log,
      pauses: { read: async (node) => (reads.push(`pause:${node}`), node === 'paused' ? { since: at(1000), by: 'master-1' } : undefined) },
      jobs: { latest: async (node) => (reads.push(`job:${node}`), undefined) },
      queues: {
        depths: async (node) => {
          reads.push(`queues:${node}`);
          if (node === 'broken') throw new Error('GetQueueAttributes refused');
          return { queueDepth: 0, deadLetterDepth: 0 };
        },
        nudge: async (node, sentEvent, id) => {
          if (node === 'refused') throw new Error('SendMessage refused');
          sent.push({ node, sequence: sentEvent.sequence, id });
        },
      },
    };
    return { log, deps, sent, reads };
  }
  const node = (name: string, cursor: number, lag: number, consumes = true): MeasuredNode => ({ name, consumes, lag, progress: { cursor } });

  it("nudges each candidate with the log's last event; a failure of one stops neither the run nor the others", async () => {
    const { deps, sent } = await setUp();
    const nodes = [node('slave-1', 2, 4), node('broken', 2, 4), node('refused', 2, 4), node('paused', 2, 4), node('master-1', 0, 6, false), node('slave-2', 6, 0)];
    const run = await nudgeLaggingNodes(deps, CLUSTER, nodes, NOW);
    expect(run.nudged).toEqual({ 'slave-1': 6 });
    expect(sent).toEqual([{ node: 'slave-1', sequence: 6, id: nudgeDeduplicationId({ cluster: CLUSTER, sequence: 6 }, NOW) }]);
    expect(run.skipped).toEqual({ paused: 'paused' });
    expect(run.failed.map((failure) => [failure.node, String(failure.error)]).sort()).toEqual([
      ['broken', 'Error: GetQueueAttributes refused'],
      ['refused', 'Error: SendMessage refused'],
    ]);
  });

  it('times the node by the first event it lacks: one that lacks only the recent event is left to its delivery', async () => {
    const { deps, sent, reads } = await setUp();
    const run = await nudgeLaggingNodes(deps, CLUSTER, [node('slave-1', 5, 1)], NOW);
    expect(run).toEqual({ nudged: {}, skipped: { 'slave-1': 'in-flight' }, failed: [] });
    expect(sent).toEqual([]);
    // The job is not read once the log ruled it out.
    expect(reads).toEqual(['pause:slave-1', 'queues:slave-1']);
  });
});
