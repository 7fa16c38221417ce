/**
 * `npm start`: the whole cluster on this machine, no AWS account and no Docker.
 *
 *   npm start                      API on http://127.0.0.1:3000, data kept in .local/
 *   npm start -- --port 3100       another API port
 *   npm start -- --fresh           forget the data of earlier runs first
 *   npm start -- --in-memory       keep nothing
 *   npm start -- --cluster-file c.json   run another cluster than cdk.json's (as cdk synth -c clusterFile=c.json)
 *   npm start -- --allow-host h    let the API's routes answer requests addressed to h (a proxy's or container's name)
 *   npm start -- --no-iam          do not enforce the functions' IAM policies on DynamoDB (benchmarks)
 *   npm start -- --function-log F  where the functions' JSON log lines go (default .local/functions.log;
 *                                  --in-memory, a file of its own under the temporary folder, named in the
 *                                  banner; with --ready-json, this process's output, which the test harness files)
 *   GEOSERVER_URLS=slave-1=http://localhost:8081/geoserver npm start   give nodes real GeoServers
 *     (credentials: GEOSERVER_CREDENTIALS_<NODE> or GEOSERVER_CREDENTIALS, default admin:geoserver)
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ClusterConfigError } from '../cdk/cluster-config';
import { banner } from './banner';
import { DEFAULT_STATE_DIR, startLocalCluster } from './cluster';
import { LocalStartError } from './emulators';
import { functionLogFile } from './function-log';
import { parseGeoServerUrls, withGeoServerUrls } from './geoserver';
import { stopOnSignals } from './stop-signals';

const HELP = `Usage: npm start -- [--port N] [--fresh] [--in-memory] [--dynamo-port N] [--aws-port N] [--no-schedules] [--no-iam] [--allow-host NAME] [--cluster-file FILE] [--function-log FILE]

  --port N            the API's port (default 3000, or PORT)
  --dynamo-port N     DynamoDB Local's port (default 8000)
  --aws-port N        the SNS/SQS/S3 emulator's port (default 4566)
                      0 for any of the three picks a free port: run beside other clusters on this machine
                      with --port <yours> --dynamo-port 0 --aws-port 0 (the banner prints the ports chosen);
                      beside this checkout's own running cluster, which owns .local/, add --in-memory
  --fresh             forget the data of earlier runs (.local/ of this checkout) first
  --in-memory         keep nothing; the tokens are printed, not written to .local/node-tokens.json
  --no-schedules      do not fire the scheduled functions (fire one: POST /__local/schedules/<name>)
  --no-iam            do not enforce the functions' IAM policies on their DynamoDB calls
  --allow-host NAME   let the API's routes answer requests whose Host is NAME (e.g. a proxy's or a container's
                      name for this machine; repeat it or give a comma list). Every listener answers only
                      127.0.0.1, localhost, [::1] and *.localhost otherwise (403), so that no web page can reach it by
                      rebinding its name to 127.0.0.1; the /__local controls and the emulators take no other name
  --cluster-file FILE run another cluster than cdk.json's (as cdk synth -c clusterFile=FILE)
  --function-log FILE where the functions' JSON log lines go (default .local/functions.log; with --in-memory,
                      a file of this run's own under the temporary folder, which the banner names)`;

async function main(): Promise<void> {
  const { values } = parseOptions({
    options: {
      port: { type: 'string', default: process.env.PORT ?? '3000' },
      fresh: { type: 'boolean', default: false },
      'in-memory': { type: 'boolean', default: false },
      'dynamo-port': { type: 'string', default: '8000' },
      'aws-port': { type: 'string', default: '4566' },
      'no-schedules': { type: 'boolean', default: false },
      'no-iam': { type: 'boolean', default: false },
      'allow-host': { type: 'string', multiple: true, default: [] },
      'ready-json': { type: 'boolean', default: false },
      'cluster-file': { type: 'string' },
      'function-log': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const port = (name: string, raw: string) => {
    if (!/^\d+$/.test(raw)) throw new LocalStartError(`--${name} must be a port number, got '${raw}'`);
    return Number(raw);
  };
  const quiet = values['ready-json'];
  // One answer for the cluster and the banner: the banner names the file written.
  const functionLog = functionLogFile({ given: values['function-log'], inMemory: values['in-memory'], quiet, stateDir: DEFAULT_STATE_DIR, cwd: process.cwd() });
  const clusterFile = values['cluster-file'];
  // The same cluster file `cdk synth -c clusterFile=...` takes, read by the CDK app itself.
  let context: Record<string, unknown> | undefined;
  const base = JSON.parse(readFileSync(new URL('../cdk.json', `file://${__filename}`), 'utf8')).context;
  if (clusterFile) {
    context = { ...base, clusterFile };
  }
  if (process.env.GEOSERVER_URLS) {
    try {
      // The cluster (from the file, if any) with the GeoServers given, passed whole.
      const cluster = clusterFile ? JSON.parse(readFileSync(clusterFile, 'utf8')) : base.cluster;
      const { clusterFile: _fromFile, ...rest } = base as Record<string, unknown>;
      void _fromFile;
      context = { ...rest, cluster: withGeoServerUrls(cluster, parseGeoServerUrls(process.env.GEOSERVER_URLS)) };
    } catch (error) {
      throw new LocalStartError((error as Error).message);
    }
  }
  const cluster = await startLocalCluster({
    port: port('port', values.port),
    fresh: values.fresh,
    persist: !values['in-memory'],
    dynamoPort: port('dynamo-port', values['dynamo-port']),
    awsPort: port('aws-port', values['aws-port']),
    runSchedules: !values['no-schedules'],
    enforceIam: !values['no-iam'],
    allowedHosts: allowedHosts(values['allow-host']),
    context,
    functionLogFile: functionLog,
    log: quiet ? undefined : (line) => console.log(line),
  });

  const shutdown = stopOnSignals({
    stop: () => cluster.stop(),
    announce: quiet ? undefined : () => console.log('\nStopping the local cluster... (Ctrl-C again stops at once)'),
    forcedMessage: (signal) => forcedStopMessage(signal, !values['in-memory']),
  });
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);

  if (quiet) {
    // Machine-readable readiness line for the test harness and benchmarks.
    console.log(JSON.stringify({ ready: true, url: cluster.url, tokens: cluster.tokens, emulators: { dynamo: cluster.emulators.dynamoEndpoint, aws: cluster.emulators.awsEndpoint } }));
  } else {
    // process.pid: this process handles SIGINT (under npm and tsx, the node process running this file).
    console.log(banner(cluster, { inMemory: values['in-memory'], functionLog, pid: process.pid, cwd: process.cwd() }));
  }
}

/**
 * What a stop cut short by a second signal may leave. The emulators are gone already (the first
 * signal ended them, local/supervisor.ts); what the stop would have removed stays, and each is
 * recognised as left by an ended run.
 */
function forcedStopMessage(signal: NodeJS.Signals, persisted: boolean): string {
  const state = path.relative(process.cwd(), DEFAULT_STATE_DIR) || '.';
  const left = persisted
    ? [
        `${path.join(state, 'cluster.json')} and ${path.join(state, 'cluster.lock')} (they name this ended run's pid: the next npm start takes them over, and npx geocluster says the cluster is not running)`,
        "messages a function was given, back on their queues after their visibility timeout (3 min for a node's apply queue)",
      ]
    : [`this run's synthesized app under ${state}/ (the next npm start removes it)`];
  const what = signal === 'SIGINT' ? 'Ctrl-C (SIGINT)' : signal;
  return `npm start: a second ${what}: stopped at once, without finishing the stop. May be left: ${left.join('; ')}`;
}

/** --allow-host's names, each a bare host name (no port, scheme or path), refused otherwise. */
function allowedHosts(given: readonly string[]): string[] {
  const names = given.flatMap((value) => value.split(',')).map((name) => name.trim());
  for (const name of names) {
    if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i.test(name)) {
      throw new LocalStartError(`--allow-host takes host names without port or scheme (e.g. --allow-host geoserver-host), got '${name}'`);
    }
  }
  return names;
}

/**
 * The options, a mistyped or unknown one (`--inmemory`, `--port` without its number, `npm start 3100`)
 * refused with one line naming it, as every other bad start is, not a stack trace.
 */
function parseOptions<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code !== 'string' || !code.startsWith('ERR_PARSE_ARGS_')) throw error;
    // Node's own hint on passing positionals after `--` is about its parser, not these options.
    const what = (error as Error).message.split('. To specify a positional argument')[0]!.replace(/\.$/, '');
    throw new LocalStartError(`${what}: npm start -- --help lists the options`);
  }
}

main().catch((error: unknown) => {
  if (error instanceof LocalStartError || error instanceof ClusterConfigError) {
    console.error(`npm start: ${error.message}`);
  } else {
    console.error(error);
  }
  process.exit(1);
});
