/**
 * What a function's bundle must not carry: code of another path that only adds to its cold
 * import (issue 8's budget). The XML reader (saxes) is the gateway's and the WPS POST's; the
 * apply function reached it once through a helper it imported from the gateway's module.
 */
import { build } from 'esbuild';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..', '..');

async function bundledInputs(entry: string): Promise<string[]> {
  const result = await build({
    entryPoints: [path.join(ROOT, entry)],
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    format: 'cjs',
    logLevel: 'silent',
    external: ['@aws-sdk/*', '@smithy/*'],
  });
  return Object.keys(result.metafile.inputs);
}

test('the apply function does not bundle the XML reader, nor does its job path', async () => {
  // The job path (job-slices.ts) is a chunk of its own beside the apply function's index.js.
  for (const entry of ['lambdas/config-sync/handlers/apply-events.ts', 'lambdas/config-sync/job-slices.ts']) {
    const inputs = await bundledInputs(entry);
    expect(inputs.some((input) => input.includes('config-sync/apply.ts'))).toBe(true);
    expect(inputs.filter((input) => input.includes('node_modules/saxes') || input.includes('xml-reader'))).toEqual([]);
  }
}, 30_000);
