/**
 * Job slices for a function that runs them only on a rare path, as a module of its own:
 * ResyncNode runs a job within its requests only for a pure master, which has no queue (a
 * consuming node's resync is queued to the node's own apply function). `loadJobSlices`
 * (deferred-job-slices.ts) requires it on the first such request, and DEFERRED_MODULES in
 * cdk/constructs/cluster-function.ts bundles it beside the function's index.js, so the job
 * runner, the apply path and the GeoServer code it brings are not parsed at every cold start
 * of a function whose usual request only queues a job. The apply function, which runs slices
 * from its queue, imports job-runner.ts itself.
 */
import { applyDepsFromEnv } from './adapters/from-env';
import type { AppliedEvent } from './apply';
import { nodeMetrics, recordApplied } from './apply-metrics';
import { runJobSlice, type JobRunnerDeps, type SliceOutcome } from './job-runner';
import type { JobStore } from './jobs';
import { describeError, logger } from '../shared/observability';

/** Runs one slice of a job of a node without a GeoServer, against the stores the function's environment names. */
export type SliceRunner = (node: string, jobId: string, deadline: number) => Promise<SliceOutcome>;

/** A slice runner over the function's own stores, which it creates (a function keeps the one it builds). */
export function storeSliceRunner(cluster: string, jobs: JobStore): SliceRunner {
  const deps = applyDepsFromEnv();
  const jobDeps: JobRunnerDeps = {
    cluster,
    store: deps.store,
    jobs,
    apply: deps,
    compareMode: 'stored-properties',
    now: () => new Date(),
    onFailure: (error) => logger.error('job failed', { error: describeError(error) }),
  };
  return async (node, jobId, deadline) => {
    // What the slice's catch-up (a resync's) applied, counted in the node's metrics as its
    // events applied anywhere else are, however the slice ended: a failure part way leaves the
    // events before it committed. Nothing when the slice applied none (a copy or prune step).
    const applied: AppliedEvent[] = [];
    try {
      return await runJobSlice({ ...jobDeps, onApplied: (events) => void applied.push(...events) }, node, jobId, deadline);
    } finally {
      if (applied.length > 0) recordApplied(nodeMetrics(node), applied);
    }
  };
}
