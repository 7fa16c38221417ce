/**
 * Where a function that runs job slices only on a rare path takes them from (job-slices.ts):
 * a `require` on first use of that exact specifier, which the bundling leaves external and
 * serves from a file beside index.js (DEFERRED_MODULES in cdk/constructs/cluster-function.ts).
 * `require`, not `import()`, as in deferred-sdk.ts: the bundles are CommonJS, and Jest runs the
 * sources without ES module support.
 */
export type JobSlices = typeof import('./job-slices');

export function loadJobSlices(): JobSlices {
  return require('./job-slices') as JobSlices;
}
