// An error's name as the functions' minified bundles see it: class names do not survive
// minification, so what operators read (a parked event's reason in GET /nodes, a job's error,
// a log line's error) must not be built from them.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { build } from 'esbuild';

const repo = path.resolve(__dirname, '..', '..', '..');

test("a project error, described in a minified bundle, is named by its code", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sgc-error-names-'));
  try {
    const entry = path.join(dir, 'entry.ts');
    writeFileSync(
      entry,
      [
        `import { describeError } from ${JSON.stringify(path.join(repo, 'lambdas/shared/observability'))};`,
        `import { EventsMissingFromLogError } from ${JSON.stringify(path.join(repo, 'lambdas/config-sync/errors'))};`,
        `export const described = describeError(new EventsMissingFromLogError('geo', 'slave-1', [5, 6]));`,
      ].join('\n'),
    );
    const outfile = path.join(dir, 'out.js');
    // The functions' esbuild settings (cdk/constructs/cluster-function.ts, BUNDLE_SETTINGS).
    await build({ entryPoints: [entry], bundle: true, platform: 'node', target: 'node22', format: 'cjs', minify: true, mainFields: ['module', 'main'], outfile, logLevel: 'warning' });
    const { described } = require(outfile) as { described: string };
    expect(described).toBe('RESYNC_REQUIRED: Events 5..6 of cluster geo are missing from the event log; node slave-1 must resync from a snapshot');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
