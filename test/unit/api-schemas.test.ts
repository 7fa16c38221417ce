/**
 * The answer schemas the OpenAPI document publishes (lambdas/status/api.ts,
 * lambdas/config-sync/api.ts) are held to what the code really answers: at compile time, the
 * domain's answer types must be assignable to each schema's type (`npm run typecheck` fails
 * otherwise), and at run time, answers built by the code that builds them must parse.
 */
import * as z from 'zod/mini';
import {
  changeSetAnswerSchema,
  eventSummarySchema,
  nodeJobSchema,
  publishAnswerSchema,
  publishedEventSchema,
} from '../../lambdas/config-sync/api';
import { parseConfigChange, type PublishedEvent } from '../../lambdas/config-sync/events';
import { summarize, type EventSummary } from '../../lambdas/config-sync/event-log-view';
import { jobView, newJob } from '../../lambdas/config-sync/jobs';
import type { ChangeSetAnswer } from '../../lambdas/config-sync/publish';
import { errorSchema } from '../../lambdas/shared/api';
import { errorResponse } from '../../lambdas/shared/http';
import { ValidationError } from '../../lambdas/shared/errors';
import type { ExecutionStatus } from '../../lambdas/status/execution';
import {
  confClassesSchema,
  executionStatusSchema,
  jobListSchema,
  ogcExceptionSchema,
  resultsSchema,
  statusInfoSchema,
} from '../../lambdas/status/api';
import { conformance, jobList, jobListLinks, noSuchJob, results, statusInfo, type JobList, type StatusInfo } from '../../lambdas/status/protocols/ogcapi';

// ---- Compile time: each answer type fits its published schema. ----
type Fits<Actual, Schema extends z.ZodMiniType> = Actual extends z.output<Schema> ? true : never;
const fits: [
  Fits<ExecutionStatus, typeof executionStatusSchema>,
  Fits<StatusInfo, typeof statusInfoSchema>,
  Fits<JobList, typeof jobListSchema>,
  Fits<EventSummary, typeof eventSummarySchema>,
  Fits<ChangeSetAnswer, typeof changeSetAnswerSchema>,
] = [true, true, true, true, true];

const BASE = 'https://maps.example/api';
const status = (overrides: Partial<ExecutionStatus> = {}): ExecutionStatus => ({
  executionId: '0f8fad5b-d9cb-469f-a165-70867728950e',
  processName: 'gs:Buffer',
  phase: 'RUNNING',
  progress: 40,
  task: 'Buffering',
  nodeId: 'node-1',
  userName: 'alice',
  creationTime: '2026-12-01T10:00:00.000Z',
  lastUpdated: '2026-12-01T10:00:05.000Z',
  version: 3,
  ...overrides,
});
const succeeded = status({ phase: 'SUCCEEDED', progress: 100, completionTime: '2026-12-01T10:01:00.000Z', resultLocation: 'https://maps.example/out.zip' });

describe('the published answer schemas', () => {
  it('are satisfied by the answer types (checked by the compiler)', () => {
    expect(fits).toEqual([true, true, true, true, true]);
  });

  it.each([
    ['a running status', status()],
    ['a succeeded status', succeeded],
    ['a dismissed failure', status({ phase: 'FAILED', dismissed: true, exception: { code: 'Dismissed', message: 'gone' }, completionTime: '2026-12-01T10:02:00.000Z' })],
  ])('ExecutionStatus parses %s', (_label, value) => {
    expect(z.safeParse(executionStatusSchema, value).success).toBe(true);
  });

  it('ExecutionStatus refuses what is not one (it can fail)', () => {
    expect(z.safeParse(executionStatusSchema, { ...status(), progress: 140 }).success).toBe(false);
    expect(z.safeParse(executionStatusSchema, { ...status(), lastUpdated: 'yesterday' }).success).toBe(false);
  });

  it('OGC API answers built by protocols/ogcapi.ts parse: statusInfo, job list, results, conformance, exception', () => {
    expect(z.safeParse(statusInfoSchema, statusInfo(status(), BASE)).success).toBe(true);
    expect(z.safeParse(statusInfoSchema, statusInfo(succeeded, BASE)).success).toBe(true);
    expect(z.safeParse(jobListSchema, jobList([status(), succeeded], jobListLinks(`${BASE}/jobs`, `${BASE}/jobs?cursor=x`), BASE)).success).toBe(true);
    expect(z.safeParse(resultsSchema, results(succeeded)).success).toBe(true);
    expect(z.safeParse(confClassesSchema, conformance()).success).toBe(true);
    expect(z.safeParse(ogcExceptionSchema, noSuchJob('x', `${BASE}/jobs/x`).body).success).toBe(true);
  });

  it('the JSON error body of lambdas/shared/http.ts parses as Error', () => {
    const response = errorResponse(new ValidationError('phase', 'is required'));
    expect(z.safeParse(errorSchema, JSON.parse(response.body ?? '')).success).toBe(true);
  });

  it('a job as GET /nodes/{node}/jobs/{id} shows it (jobView) parses as NodeJob', () => {
    for (const kind of ['drift', 'reconcile', 'capture', 'resync'] as const) {
      const job = newJob({ id: 'b6a4', node: 'slave-1', kind, requestedBy: 'master-1', ...(kind === 'resync' ? { source: 'master-1' } : {}), hasGeoServer: true, now: new Date() });
      const parsed = z.safeParse(nodeJobSchema, jobView(job));
      expect({ kind, success: parsed.success }).toEqual({ kind, success: true });
    }
  });

  it('a published event, its summary and the publish answer parse', () => {
    const change = parseConfigChange({ kind: 'add', object: { type: 'workspace', id: 'topp' }, properties: { name: 'topp' } });
    const event: PublishedEvent = { ...change, sequence: 7, cluster: 'prod', origin: 'master-1', publishedAt: '2026-12-01T10:00:00.000Z' };
    expect(z.safeParse(publishedEventSchema, event).success).toBe(true);
    expect(z.safeParse(eventSummarySchema, summarize(event)).success).toBe(true);
    expect(z.safeParse(publishAnswerSchema, { sequence: 7, event, published: true, appliedLocally: true }).success).toBe(true);
  });
});
