/**
 * POST /executions/reindex goes on from the `cursor` of its previous answer. A cursor it did not
 * issue (made up, cut short, or a listing's `nextCursor`, signed by the same key) is refused
 * before anything is read, and the refusal speaks of the reindex's own answers: a listing's
 * wording ("nextCursor", "the filters of the page") would send an operator looking for what a
 * reindex answer does not have.
 */
import { oneItemPerScanPage } from '../../support/one-item-scan';
import { ValidationError } from '../../../lambdas/shared/errors';
import { CursorSigner } from '../../../lambdas/shared/signed-cursor';
import { DynamoStatusStore } from '../../../lambdas/status/adapters/dynamo-status-store';
import { statusAttributes } from '../../../lambdas/status/adapters/status-item';
import { listQueryOf } from '../../../lambdas/status/list-query';

/** A table of two statuses, one per Scan page (as a Scan with Limit 1 answers). */
const stored = ['exec-1', 'exec-2'].map((executionId) =>
  statusAttributes({
    executionId,
    processName: 'gs:Buffer',
    phase: 'QUEUED',
    progress: 0,
    nodeId: 'node-a',
    creationTime: '2026-01-01T00:00:00.000Z',
    lastUpdated: '2026-01-01T00:00:00.000Z',
    version: 1,
  }),
);
const sent: unknown[] = [];
const client = oneItemPerScanPage(stored, sent);
const store = new DynamoStatusStore({ tableName: 't', shards: 8, ttlBackstopSeconds: 86_400, client, cursors: new CursorSigner('k'.repeat(48)) });

async function refusal(cursor: string): Promise<ValidationError> {
  sent.length = 0;
  try {
    await store.reindex({ cursor, maxItems: 10, deadline: Date.now() + 5_000 });
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    expect(sent).toEqual([]);
    return error as ValidationError;
  }
  throw new Error(`cursor ${cursor} was taken`);
}

describe('reindex: a cursor it did not issue', () => {
  it('refuses a made-up cursor, pointing at the cursor of its own previous answer', async () => {
    const error = await refusal('not-a-cursor');
    expect(error).toMatchObject({ status: 400, field: 'cursor' });
    expect(error.message).toMatch(/reindex/);
    expect(error.message).not.toMatch(/nextCursor|next link|filters/);
  });

  it("refuses a listing's nextCursor alike, saying it is not a reindex's", async () => {
    const page = await store.list(listQueryOf({ limit: '1' }));
    expect(page.cursor).toBeDefined();
    const error = await refusal(page.cursor as string);
    expect(error).toMatchObject({ status: 400, field: 'cursor' });
    expect(error.message).toMatch(/reindex/);
    expect(error.message).not.toMatch(/nextCursor|next link|filters/);
  });

  it('goes on from the cursor of its own previous answer', async () => {
    const first = await store.reindex({ maxItems: 1, deadline: Date.now() + 5_000 });
    expect(first.cursor).toBeDefined();
    const rest = await store.reindex({ cursor: first.cursor, maxItems: 10, deadline: Date.now() + 5_000 });
    expect(rest).toMatchObject({ scanned: 1, cursor: undefined });
  });
});
