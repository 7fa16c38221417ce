/**
 * What `npm start` keeps and says across runs (local/cluster.ts, local/node-tokens.ts,
 * local/start.ts): a persisted restart keeps the credentials the table holds, so a token
 * `geocluster token issue` printed goes on working and a revoked name stays revoked, with
 * .local/node-tokens.json holding only tokens the table accepts; and the banner names the
 * functions' log file actually written, an --in-memory run's own unless --function-log names one.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as net from 'node:net';
import { createInterface } from 'node:readline';
import { runCli, type CliIo } from '../../cli/main';
import { startLocalCluster, type LocalCluster } from '../../local/cluster';
import { LocalStartError } from '../../local/errors';

jest.setTimeout(300_000);

const ROOT = path.resolve(__dirname, '..', '..');

/** The status of `GET /nodes` under `token`: 200 for a token the authorizer takes, 403 for one it refuses. */
async function statusUnder(cluster: LocalCluster, token: string): Promise<number> {
  const response = await fetch(`${cluster.url}/nodes`, { headers: { authorization: `Bearer ${token}` } });
  await response.arrayBuffer();
  return response.status;
}

describe('a persisted restart', () => {
  let cwd: string;
  let stateDir: string;
  const start = (fresh = false) =>
    startLocalCluster({ stateDir, port: 0, dynamoPort: 0, awsPort: 0, persist: true, fresh, runSchedules: false, functionLogFile: path.join(cwd, 'functions.log') });
  const tokenFile = () => JSON.parse(readFileSync(path.join(stateDir, 'node-tokens.json'), 'utf8')) as Record<string, string>;

  beforeAll(() => {
    cwd = mkdtempSync(path.join(tmpdir(), 'local-restart-'));
    // Where `geocluster` run in `cwd` finds the running cluster (.local/cluster.json).
    stateDir = path.join(cwd, '.local');
  });
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));

  it('keeps the tokens the table holds: one minted by geocluster token issue works on, a revoked one stays revoked', async () => {
    const first = await start();
    let issued: string;
    try {
      const out: string[] = [];
      const errors: string[] = [];
      const io: CliIo = { out: (text) => out.push(text), err: (text) => errors.push(text), tty: false, env: {}, cwd };
      expect(await runCli(['token', 'issue', 'ops'], io)).toBe(0);
      expect(await runCli(['token', 'revoke', 'slave-2'], io)).toBe(0);
      expect(errors).toEqual([]);
      issued = out[0] as string;
      expect(issued).toMatch(/^ops\./);
      expect(await statusUnder(first, issued)).toBe(200);
    } finally {
      await first.stop();
    }
    const kept = first.tokens['master-1'] as string;

    const second = await start();
    try {
      // The token the user was handed still works, and the printed ones are the earlier run's.
      expect(await statusUnder(second, issued)).toBe(200);
      expect(second.tokens['master-1']).toBe(kept);
      expect(await statusUnder(second, kept)).toBe(200);
      // The revoked name got no new token behind the user's back.
      expect(await statusUnder(second, first.tokens['slave-2'] as string)).toBe(403);
      expect(second.tokensElsewhere).toEqual({ ops: 'issued', 'slave-2': 'revoked' });
      // The file holds only what the table takes: nothing for ops (its token was printed once) or slave-2.
      const saved = tokenFile();
      expect(Object.keys(saved).sort()).toEqual(['master-1', 'slave-1']);
      for (const token of Object.values(saved)) expect(await statusUnder(second, token)).toBe(200);
    } finally {
      await second.stop();
    }

    // --fresh starts anew: every name a new token, the issued one forgotten with the data.
    const fresh = await start(true);
    try {
      expect(fresh.tokensElsewhere).toEqual({});
      expect(Object.keys(tokenFile()).sort()).toEqual(['master-1', 'ops', 'slave-1', 'slave-2']);
      expect(fresh.tokens['master-1']).not.toBe(kept);
      expect(await statusUnder(fresh, issued)).toBe(403);
      expect(await statusUnder(fresh, fresh.tokens.ops as string)).toBe(200);
    } finally {
      await fresh.stop();
    }
  });

  it('refuses a node-tokens.json that is not a JSON object of tokens, naming it, and leaves it as it was', async () => {
    writeFileSync(path.join(stateDir, 'node-tokens.json'), '{"master-1": 42}\n');
    // A start that took it anyway is stopped, not left running.
    const outcome = await start().then(
      (cluster) => cluster.stop().then(() => 'started'),
      (error: unknown) => error,
    );
    expect(outcome).toBeInstanceOf(LocalStartError);
    expect((outcome as Error).message).toContain(`${path.join(stateDir, 'node-tokens.json')} must be a JSON object from each node or operator name to its token`);
    expect(readFileSync(path.join(stateDir, 'node-tokens.json'), 'utf8')).toBe('{"master-1": 42}\n');
  });
});

/** Runs `npm start`'s entry point with `args` until its banner is out, stops it with SIGINT to the pid the banner names, and returns the banner. */
async function bannerOf(args: string[]): Promise<string> {
  const child = spawn(path.join(ROOT, 'node_modules', '.bin', 'tsx'), ['local/start.ts', '--in-memory', '--port', '0', '--dynamo-port', '0', '--aws-port', '0', '--no-schedules', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines: string[] = [];
  let errors = '';
  child.stderr.on('data', (chunk) => (errors += String(chunk)));
  try {
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stdout }).on('line', (line) => {
        lines.push(line);
        if (line.startsWith('Ctrl-C')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`npm start exited (${code}) before its banner: ${errors}`)));
    });
  } finally {
    const pid = /^ {2}Pid +(\d+)/m.exec(lines.join('\n'))?.[1];
    // The pid the banner names handles SIGINT; without a banner, the process this test started.
    if (child.exitCode === null && child.signalCode === null) process.kill(pid === undefined ? (child.pid as number) : Number(pid), 'SIGINT');
    await exited;
  }
  return lines.join('\n');
}

describe('the banner of an --in-memory run', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(path.join(tmpdir(), 'start-banner-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('names the file --function-log gives, which the run writes', async () => {
    const file = path.join(dir, 'mine.log');
    const text = await bannerOf(['--function-log', file]);
    expect(text).toContain(`  Function logs ${file} (JSON lines: tail -f it)`);
    expect(text).not.toContain('.local/functions.log');
    expect(existsSync(file)).toBe(true);
  });

  it("logs by default to a file of its own, not the persisted run's .local/functions.log, and names it", async () => {
    const text = await bannerOf([]);
    const named = /^ {2}Function logs (\S+) /m.exec(text)?.[1];
    expect(named).toBeDefined();
    expect(path.isAbsolute(named as string)).toBe(true);
    expect(named).not.toBe(path.join(ROOT, '.local', 'functions.log'));
    expect(path.relative(path.join(ROOT, '.local'), named as string).startsWith('..')).toBe(true);
    expect(existsSync(named as string)).toBe(true);
    rmSync(path.dirname(named as string), { recursive: true, force: true });
  });
});

/** The TCP ports `pid` listens on (from `ss`, which names the process of each socket of this user). */
function listeningPorts(pid: number): number[] {
  const listing = execFileSync('ss', ['-ltnpH'], { encoding: 'utf8' });
  return listing
    .split('\n')
    .filter((line) => line.includes(`pid=${pid},`))
    .map((line) => Number(/:(\d+)\s/.exec(line.split(/\s+/)[3] + ' ')?.[1]))
    .filter((port) => port > 0);
}

// A second Ctrl-C while the stop runs is local/stop-signals.ts's (test/unit/local/stop-signals.test.ts).
describe('Ctrl-C while clients hold requests open', () => {
  it('stops npm start, exit 0: a request whose body never comes does not hold the stop up', async () => {
    // One node process (no tsx wrapper between): the pid signalled is the one that handles SIGINT.
    const child = spawn(process.execPath, ['--import', 'tsx', 'local/start.ts', '--in-memory', '--port', '0', '--dynamo-port', '0', '--aws-port', '0', '--no-schedules'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    let errors = '';
    child.stderr.on('data', (chunk) => (errors += String(chunk)));
    const held: net.Socket[] = [];
    try {
      await new Promise<void>((resolve, reject) => {
        createInterface({ input: child.stdout }).on('line', (line) => {
          if (line.startsWith('Ctrl-C')) resolve();
        });
        void exited.then(({ code }) => reject(new Error(`npm start exited (${code}) before its banner: ${errors}`)));
      });
      // Requests still being read (their bodies never come) on each of its local endpoints, as a
      // slow or stuck client leaves them: a server that waits for its requests to end before it
      // closes would hold the stop up (the local Lambda API's did, about 6 s here; now about 0.1 s,
      // test/unit/local/lambda-api.test.ts). The bound is what a user would call a hang.
      const ports = listeningPorts(child.pid as number);
      expect(ports.length).toBeGreaterThan(0);
      for (const port of ports) {
        const socket = net.connect(port, '127.0.0.1');
        await new Promise<void>((resolve) => socket.once('connect', resolve));
        socket.on('error', () => undefined);
        socket.write(`PUT /2015-03-31/event-source-mappings/held HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{`);
        held.push(socket);
      }
      await new Promise((resolve) => setTimeout(resolve, 300));

      child.kill('SIGINT');
      const ended = await Promise.race([exited, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 10_000))]);
      expect(ended).toEqual({ code: 0, signal: null });
      expect(errors).not.toContain('a second Ctrl-C');
    } finally {
      for (const socket of held) socket.destroy();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    }
  });
});
