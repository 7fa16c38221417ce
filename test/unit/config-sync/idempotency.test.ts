import { IdempotencyKeyReusedError, IdempotentRequestInProgressError } from '../../../lambdas/config-sync/errors';
import { publishIdempotently } from '../../../lambdas/config-sync/publish';
import { add, CLUSTER, harness } from './fixtures';

const MASTER = { cluster: CLUSTER, node: { name: 'master-1', role: 'master' as const } };

describe('publishing with an Idempotency-Key', () => {
  it('commits once: a retry with the same key and body gets the first answer, another body a 422', async () => {
    const h = harness();
    const change = add('workspace', 'topp', { name: 'topp' });
    const first = await publishIdempotently(h.deps, MASTER, change, { key: 'k1', bodyHash: 'hash-a' });
    expect(first.replayed).toBe(false);
    const again = await publishIdempotently(h.deps, MASTER, change, { key: 'k1', bodyHash: 'hash-a' });
    expect(again).toEqual({ replayed: true, answer: first.answer });
    await expect(publishIdempotently(h.deps, MASTER, add('workspace', 'sf'), { key: 'k1', bodyHash: 'hash-b' })).rejects.toBeInstanceOf(
      IdempotencyKeyReusedError,
    );
    expect(await h.log.head(CLUSTER)).toBe(1);
    expect(h.topic.published.map((event) => event.sequence)).toEqual([1]);
    // Keys are per node: another master's key of the same name is its own.
    const other = await publishIdempotently(h.deps, { ...MASTER, node: { name: 'master-2', role: 'master' } }, change, { key: 'k1', bodyHash: 'hash-a' });
    expect(other.answer).toMatchObject({ sequence: 2 });
  });

  it('two first attempts sent at once under one key commit once: the in-memory log checks the claim at the write, as DynamoDB does', async () => {
    const h = harness();
    const change = add('workspace', 'topp', { name: 'topp' });
    const attempts = await Promise.allSettled([
      publishIdempotently(h.deps, MASTER, change, { key: 'k-race', bodyHash: 'hash-a' }),
      publishIdempotently(h.deps, MASTER, change, { key: 'k-race', bodyHash: 'hash-a' }),
    ]);
    expect(attempts.filter((attempt) => attempt.status === 'fulfilled' && !attempt.value.replayed)).toHaveLength(1);
    expect(await h.log.head(CLUSTER)).toBe(1);
    expect(h.topic.published.map((event) => event.sequence)).toEqual([1]);
  });

  it('answers 409 while the first request has committed but not answered, and rebuilds the answer from the log once it is old', async () => {
    const h = harness();
    const change = add('workspace', 'topp', { name: 'topp' });
    // The first request's function dies after the commit: its answer is never recorded.
    h.log.saveIdempotentAnswer = async () => {
      throw new Error('function died');
    };
    await publishIdempotently(h.deps, MASTER, change, { key: 'k1', bodyHash: 'hash-a' });
    await expect(publishIdempotently(h.deps, MASTER, change, { key: 'k1', bodyHash: 'hash-a' })).rejects.toBeInstanceOf(
      IdempotentRequestInProgressError,
    );
    const later = { ...h.deps, now: () => new Date(Date.parse('2025-01-01T00:10:00Z')) };
    const rebuilt = await publishIdempotently(later, MASTER, change, { key: 'k1', bodyHash: 'hash-a' });
    expect(rebuilt).toMatchObject({ replayed: true, answer: { sequence: 1, event: { sequence: 1, kind: 'add' }, published: false, appliedLocally: false } });
    expect(await h.log.head(CLUSTER)).toBe(1);
  });
});
