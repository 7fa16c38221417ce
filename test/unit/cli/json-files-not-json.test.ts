/**
 * A file the CLI reads as JSON that is not JSON: the running cluster's .local/cluster.json, its
 * .local/node-tokens.json, or the changes given to `config publish`. The same situation, so one
 * message: the file, that it is not valid JSON, and where the parser stopped (exit 2, nothing
 * sent), not a bare "is not valid JSON" for some files and "is not JSON: <why>" for another.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCliCollected } from '../../support/run-cli';

let cwd: string;
beforeEach(() => {
  cwd = mkdtempSync(path.join(tmpdir(), 'geocluster-json-files-'));
  mkdirSync(path.join(cwd, '.local'));
});
afterEach(() => rmSync(cwd, { recursive: true, force: true }));

const why = (text: string) => {
  try {
    JSON.parse(text);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error(`${text} is JSON`);
};

it.each([
  ['.local/cluster.json', ['nodes'], {}],
  ['.local/node-tokens.json', ['nodes'], { GEOCLUSTER_URL: 'http://127.0.0.1:1' }],
  ['changes.json', ['config', 'publish', 'changes.json'], { GEOCLUSTER_URL: 'http://127.0.0.1:1', GEOCLUSTER_TOKEN: 'master-1.abcdefghijklmnopqrstuvwxyz' }],
])('%s not JSON: named, with why, in the one wording (exit 2)', async (file, argv, env) => {
  const text = '{"url": "http://127.0.0.1:1",';
  writeFileSync(path.join(cwd, file), text);
  const result = await runCliCollected(argv, { tty: false, env, cwd });
  expect(result.code).toBe(2);
  expect(result.err).toBe(`geocluster: ${path.join(cwd, file)} is not valid JSON: ${why(text)}\n`);
});
