import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { writeClusterFile } from '../../../local/cluster-file';
import { processStart } from '../../../local/process-runs';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'cluster-file-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const contents = { url: 'http://127.0.0.1:3000', credentialsTable: 'Credentials', dynamoEndpoint: 'http://127.0.0.1:8000', masters: ['master-1'], names: ['master-1', 'ops'] };

test('cluster.json records the process running the cluster, and goes when the cluster stops', () => {
  const remove = writeClusterFile(dir, contents);
  const file = path.join(dir, 'cluster.json');
  // Its pid, and (on Linux) its start time, which a later process given the same pid does not share.
  expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ ...contents, pid: process.pid, pidStart: processStart() });
  remove();
  expect(existsSync(file)).toBe(false);
});

test("a stopping cluster leaves alone the cluster.json a later run of the checkout wrote over its own", () => {
  const remove = writeClusterFile(dir, contents);
  const file = path.join(dir, 'cluster.json');
  const later = `${JSON.stringify({ ...contents, url: 'http://127.0.0.1:3100', pid: process.pid + 1 })}\n`;
  writeFileSync(file, later);
  remove();
  expect(readFileSync(file, 'utf8')).toBe(later);
});
