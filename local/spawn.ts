/**
 * Starts the local cluster as a separate process through the `npm start` entry point (in
 * memory, free ports) and waits for its readiness line. The integration suite and the
 * benchmarks use it, so clients and server never share an event loop.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';

const ROOT = path.resolve(__dirname, '..');

export interface SpawnedCluster {
  url: string;
  tokens: Record<string, string>;
  emulators: { dynamo: string; aws: string };
  process: ChildProcess;
  /**
   * Calls `listener` with every line the cluster prints on its standard output from now on
   * (its functions' JSON log lines among them); returns the function that stops it.
   */
  onLine(listener: (line: string) => void): () => void;
  stop(): Promise<void>;
}

/** `env`: more environment for the cluster process (e.g. the local runtime's test tuning, CONFIG_SYNC_LOCAL_PASSTHROUGH_ENV). */
export async function spawnLocalCluster(options: { logFile: string; timeoutMs?: number; extraArgs?: string[]; env?: Record<string, string> }): Promise<SpawnedCluster> {
  const timeoutMs = options.timeoutMs ?? 180_000;
  mkdirSync(path.dirname(options.logFile), { recursive: true });
  const log = createWriteStream(options.logFile);
  const child = spawn(
    path.join(ROOT, 'node_modules', '.bin', 'tsx'),
    ['local/start.ts', '--in-memory', '--port', '0', '--dynamo-port', '0', '--aws-port', '0', '--no-schedules', '--ready-json', ...(options.extraArgs ?? [])],
    // GEOSERVER_URLS is for `npm start` by hand: a spawned cluster (tests, benches) declares its
    // GeoServers in its own cluster file, so an opt-in suite's GEOSERVER_URLS never reaches it.
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: { ...withoutGeoServerUrls(process.env), ...options.env } },
  );
  child.stderr.pipe(log);

  const listeners = new Set<(line: string) => void>();
  const ready = await new Promise<Omit<SpawnedCluster, 'process' | 'stop' | 'onLine'>>((resolve, reject) => {
    const timer = setTimeout(() => {
      // Not left running behind the caller's back (a test run would carry it to its end).
      if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, 'SIGKILL');
      reject(new Error(`Local cluster did not start within ${timeoutMs} ms; see ${options.logFile}`));
    }, timeoutMs);
    const lines = readline.createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      log.write(`${line}\n`);
      for (const listener of listeners) listener(line);
      if (!line.startsWith('{"ready":true')) return;
      clearTimeout(timer);
      resolve(JSON.parse(line));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Local cluster exited with code ${code} before it was ready; see ${options.logFile}`));
    });
  });
  const onLine = (listener: (line: string) => void) => {
    listeners.add(listener);
    return () => listeners.delete(listener);
  };
  return { ...ready, process: child, onLine, stop: () => stopSpawned(child) };
}

export async function stopSpawned(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  // SIGTERM lets the cluster stop its emulators; the whole process group goes if it hangs.
  process.kill(-child.pid, 'SIGTERM');
  const timer = setTimeout(() => child.pid && process.kill(-child.pid, 'SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

function withoutGeoServerUrls(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { GEOSERVER_URLS: _urls, ...rest } = env;
  return rest;
}
