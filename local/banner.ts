/**
 * What `npm start` prints once the local cluster runs (local/start.ts): where each part listens,
 * the routes, the tokens and how to try it. A function of its own, so the text can be tested without starting a cluster.
 */
import * as path from 'node:path';
import type { LocalCluster } from './cluster';

export interface BannerOptions {
  /** Whether nothing is kept (`--in-memory`): the data line, and the tokens not in .local/. */
  readonly inMemory: boolean;
  /** Where the functions' JSON log lines go, relative to `cwd` in the banner. */
  readonly functionLog: string;
  readonly cwd: string;
}

export function banner(cluster: Pick<LocalCluster, 'url' | 'tokens' | 'cluster' | 'topology' | 'emulators'>, options: BannerOptions): string {
  const { inMemory } = options;
  const [firstNode] = cluster.cluster.nodes;
  const token = firstNode ? cluster.tokens[firstNode.name] : '<token>';
  const routes = cluster.topology.routes
    .map((route) => `    ${route.method.padEnd(6)} ${route.path}${route.authorizer ? '   (token)' : ''}`)
    .join('\n');
  return `
Local cluster '${cluster.cluster.name}' is running.
  API          ${cluster.url}
  DynamoDB     ${cluster.emulators.dynamoEndpoint} (DynamoDB Local)
  SNS/SQS/S3   ${cluster.emulators.awsEndpoint} (fauxqs)
  Data         ${inMemory ? 'in memory (nothing kept)' : '.local/ (kept between runs; --fresh starts over)'}
  Function logs ${path.relative(options.cwd, options.functionLog)} (JSON lines: tail -f it)
  Schedules    ${cluster.topology.schedules.map((s) => `${s.name} ${s.expression}`).join(', ')}

Routes (from the synthesized template):
${routes}

Node and operator tokens (${inMemory ? 'this run only: --in-memory keeps them out of .local/node-tokens.json' : 'also in .local/node-tokens.json'}; operators may list and read, not write):
${Object.entries(cluster.tokens).map(([node, value]) => `    ${node.padEnd(12)} ${value}`).join('\n')}
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

Ctrl-C stops everything.`;
}
