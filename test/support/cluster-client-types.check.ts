/**
 * Compiled by `npm run typecheck`, never run: holds the test client (cluster-client.ts) to its
 * promise that a test using a field the API does not document fails the type-check. Each
 * `@ts-expect-error` fails the type-check if the line below it stops being an error.
 */
import { api } from './cluster-client';

export async function typedCalls(id: string): Promise<unknown[]> {
  const polled = await api('GET', `/executions/${id}`);
  const processName: string = polled.body.processName;
  // @ts-expect-error -- no answer of GET /executions/{executionId} has `nope`
  const nope = polled.body.nope;

  const listed = await api('GET', `/executions?processName=${encodeURIComponent(id)}&limit=2`);
  const phases = listed.body.executions.map((status) => status.phase);
  // @ts-expect-error -- the listing's page is `executions`, not `items`
  const items = listed.body.items;
  // @ts-expect-error -- a phase is one of the documented ones
  const unknownPhase = phases.includes('PAUSED');

  // @ts-expect-error -- the write's member is `progress`
  await api('PUT', `/executions/${id}`, { json: { phase: 'RUNNING', progres: 5 } });
  await api('PUT', `/executions/${id}`, { json: { phase: 'RUNNING', progress: 5 } });
  // Deliberately invalid bodies go as invalidJson, untyped.
  await api('PUT', `/executions/${id}`, { invalidJson: { phase: 'PAUSED' } });

  const job = await api('GET', `/jobs/${id}`);
  const status = job.body.status;
  // @ts-expect-error -- OGC statusInfo calls it jobID
  const jobId = job.body.jobId;

  const reindexed = await api('POST', '/executions/reindex', { json: { limit: 10 } });
  const done: boolean = reindexed.body.done;

  // The local runtime's own routes are not in the document: untyped.
  const queues = await api('GET', '/__local/queues');
  return [processName, nope, items, unknownPhase, status, jobId, done, queues.body.anything];
}
