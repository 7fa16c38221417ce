/**
 * What `npm start` prints once the local cluster runs (local/start.ts): where each part listens,
 * the routes, the tokens, how to try it, and the pid to send SIGINT to when it runs in the
 * background. A function of its own, so the text can be tested without starting a cluster.
 */
import * as path from 'node:path';
import type { RunningEmulators } from './emulators';
import type { LocalRoute, LocalSchedule } from './template';

export interface BannerOptions {
  /** Whether nothing is kept (`--in-memory`): the data line, and the tokens not in .local/. */
  readonly inMemory: boolean;
  /** The file the functions' JSON log lines go to (relative to `cwd` in the banner when under it), or undefined for this process's output. */
  readonly functionLog: string | undefined;
  /** The pid of the process that stops the cluster on SIGINT or SIGTERM (the one running local/start.ts). */
  readonly pid: number;
  readonly cwd: string;
}

/** What the banner reads of the running cluster (a LocalCluster is one). */
export interface BannerCluster {
  readonly url: string;
  readonly tokens: Readonly<Record<string, string>>;
  /** Names a persisted restart holds no token of (local/node-tokens.ts): minted since with `geocluster token issue`, or revoked. */
  readonly tokensElsewhere?: Readonly<Record<string, 'issued' | 'revoked'>>;
  readonly cluster: { readonly name: string; readonly nodes: readonly { readonly name: string }[] };
  readonly topology: { readonly routes: readonly Pick<LocalRoute, 'method' | 'path' | 'authorizer'>[]; readonly schedules: readonly Pick<LocalSchedule, 'name' | 'expression'>[] };
  readonly emulators: Pick<RunningEmulators, 'dynamoEndpoint' | 'awsEndpoint'>;
}

export function banner(cluster: BannerCluster, options: BannerOptions): string {
  const { inMemory, pid } = options;
  // The first node whose token this start holds; a persisted restart may hold none (all minted since or revoked).
  const token = cluster.cluster.nodes.map((node) => cluster.tokens[node.name]).find((value) => value !== undefined) ?? '<token>';
  const elsewhere = Object.entries(cluster.tokensElsewhere ?? {}).map(
    ([name, why]) => `    ${name.padEnd(12)} ${why === 'issued' ? '(kept: the token geocluster token issue printed; not in .local/node-tokens.json)' : '(revoked: geocluster token issue mints a new one)'}`,
  );
  const routes = cluster.topology.routes
    .map((route) => `    ${route.method.padEnd(6)} ${route.path}${route.authorizer ? '   (token)' : ''}`)
    .join('\n');
  return `
Local cluster '${cluster.cluster.name}' is running.
  API          ${cluster.url}
  DynamoDB     ${cluster.emulators.dynamoEndpoint} (DynamoDB Local)
  SNS/SQS/S3   ${cluster.emulators.awsEndpoint} (fauxqs)
  Data         ${inMemory ? 'in memory (nothing kept)' : '.local/ (kept between runs; --fresh starts over)'}
  Function logs ${functionLogShown(options)}
  Schedules    ${cluster.topology.schedules.map((s) => `${s.name} ${s.expression}`).join(', ')}
  Pid          ${pid} (stop it from another shell: kill -INT ${pid}; npm's own pid does not pass SIGINT on)

Routes (from the synthesized template):
${routes}

Node and operator tokens (${inMemory ? 'this run only: --in-memory keeps them out of .local/node-tokens.json' : 'also in .local/node-tokens.json'}; operators may list and read, not write):
${[...Object.entries(cluster.tokens).map(([node, value]) => `    ${node.padEnd(12)} ${value}`), ...elsewhere].join('\n')}
${
  inMemory
    ? `  The CLI finds a persisted cluster by itself; this one it finds from the environment:
    GEOCLUSTER_URL=${cluster.url} GEOCLUSTER_TOKEN=${token} npx geocluster nodes
`
    : ''
}
Try it:
  TOKEN=${token}
  curl -s -X PUT ${cluster.url}/executions/demo-1 -H "Authorization: Bearer $TOKEN" \\
       -H 'content-type: application/json' -d '{"processName":"gs:Buffer","phase":"QUEUED"}'
  curl -s ${cluster.url}/executions/demo-1

Ctrl-C (or kill -INT ${pid}) stops everything.`;
}

/** The log file as the banner names it: relative to the working folder when under it, else absolute. */
function functionLogShown(options: BannerOptions): string {
  if (options.functionLog === undefined) return "this process's output";
  const relative = path.relative(options.cwd, options.functionLog);
  const shown = relative !== '' && relative.split(path.sep)[0] !== '..' && !path.isAbsolute(relative) ? relative : options.functionLog;
  return `${shown} (JSON lines: tail -f it)`;
}
