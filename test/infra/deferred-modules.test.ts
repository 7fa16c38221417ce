/**
 * Deferred modules (DEFERRED_MODULES in cdk/constructs/cluster-function.ts): a function whose
 * code requires one gets it as a file of its own beside index.js, out of index.js; a function
 * that does not require it gets no such file.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { withQuietBundling } from '../../cdk/app';
import { ClusterFunction, DEFERRED_MODULES } from '../../cdk/constructs/cluster-function';

let outdir: string;
let assetDirs: Record<'catalogObject' | 'getStatus', string>;

beforeAll(() => {
  outdir = mkdtempSync(path.join(tmpdir(), 'sgc-deferred-'));
  const app = new App({ outdir });
  const stack = new Stack(app, 'Deferred');
  const catalogObject = new ClusterFunction(stack, 'CatalogObject', { entry: 'config-sync/handlers/get-catalog-object.ts' });
  const getStatus = new ClusterFunction(stack, 'GetStatus', { entry: 'status/handlers/get-status.ts' });
  withQuietBundling(() => app.synth());
  const dirOf = (fn: ClusterFunction) => {
    const asset = stack.resolve((fn.node.defaultChild as CfnFunction).code) as { s3Key: string };
    return path.join(outdir, `asset.${asset.s3Key.replace(/\.zip$/, '')}`);
  };
  assetDirs = { catalogObject: dirOf(catalogObject), getStatus: dirOf(getStatus) };
}, 300_000);

afterAll(() => rmSync(outdir, { recursive: true, force: true }));

test('the S3 client is bundled beside index.js of a function that offloads bodies, not into it', () => {
  const index = readFileSync(path.join(assetDirs.catalogObject, 'index.js'), 'utf8');
  expect(index).toContain('require("./s3-sdk")');
  // The S3 client's service name: only the client's own code carries it.
  expect(index).not.toContain('AmazonS3');
  const chunk = path.join(assetDirs.catalogObject, 's3-sdk.js');
  expect(readFileSync(chunk, 'utf8')).toContain('AmazonS3');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const sdk = require(chunk) as Record<string, unknown>;
  expect(Object.keys(sdk).sort()).toEqual(['DeleteObjectCommand', 'GetObjectCommand', 'NoSuchKey', 'PutObjectCommand', 'S3Client']);
  // Secrets Manager is required by the apply function only.
  expect(existsSync(path.join(assetDirs.catalogObject, 'secrets-manager-sdk.js'))).toBe(false);
});

test('a function that requires no deferred module gets none', () => {
  for (const deferred of DEFERRED_MODULES) {
    expect(existsSync(path.join(assetDirs.getStatus, `${path.posix.basename(deferred.specifier)}.js`))).toBe(false);
  }
});
