/**
 * Starts the local cluster once for the integration suite, through the same entry point as
 * `npm start` (in memory, on free ports, schedules fired by the tests with their own clock).
 */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';

const ROOT = path.resolve(__dirname, '..', '..');
const START_TIMEOUT_MS = 180_000;

export default async function globalSetup(): Promise<void> {
  const logFile = path.join(ROOT, '.local', 'integration-cluster.log');
  require('node:fs').mkdirSync(path.dirname(logFile), { recursive: true });
  const log = createWriteStream(logFile);
  const child = spawn(
    path.join(ROOT, 'node_modules', '.bin', 'tsx'),
    ['local/start.ts', '--in-memory', '--port', '0', '--dynamo-port', '0', '--aws-port', '0', '--no-schedules', '--ready-json'],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  (globalThis as { __clusterProcess?: typeof child }).__clusterProcess = child;
  child.stderr.pipe(log);

  const ready = await new Promise<{ url: string; tokens: Record<string, string>; emulators: { dynamo: string; aws: string } }>(
    (resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`Local cluster did not start within ${START_TIMEOUT_MS} ms; see ${logFile}`)), START_TIMEOUT_MS);
      const lines = readline.createInterface({ input: child.stdout });
      lines.on('line', (line) => {
        log.write(`${line}\n`);
        if (!line.startsWith('{"ready":true')) return;
        clearTimeout(timer);
        resolve(JSON.parse(line));
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`Local cluster exited with code ${code} before it was ready; see ${logFile}`));
      });
    },
  );
  process.env.CLUSTER_URL = ready.url;
  process.env.CLUSTER_TOKENS = JSON.stringify(ready.tokens);
  process.env.CLUSTER_DYNAMO_ENDPOINT = ready.emulators.dynamo;
  process.env.CLUSTER_AWS_ENDPOINT = ready.emulators.aws;
}
