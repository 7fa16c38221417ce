/**
 * The cluster configuration, read from cdk.json context key `cluster` (what GeoServer keeps in
 * hazelcast.xml and cluster.properties) and validated at synth time with errors naming the key.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { allowListEntryProblem } from '../lambdas/config-sync/gateway/source-allow-list';
import { clusterNameSchema, clusterNodesSchema, nodeNameSchema, nodeRoleSchema } from '../lambdas/shared/cluster-model';

const awsId = (prefix: string) =>
  z.string().regex(new RegExp(`^${prefix}-[0-9a-f]{8,17}$`), `must be an id like '${prefix}-0123456789abcdef0'`);

/**
 * An EventBridge rate expression in minutes or hours, as EventBridge takes it: a positive value, and
 * the unit singular for 1 and plural above (`rate(1 minutes)` and `rate(5 minute)` are refused at deploy).
 */
const RATE_EXPRESSION = /^rate\((1 (minute|hour)|([2-9]|[1-9]\d+) (minutes|hours))\)$/;
/** An Availability Zone's name: `eu-west-1a`, `us-gov-west-1a`, a Local Zone's `us-west-2-lax-1a`. */
const AVAILABILITY_ZONE = /^[a-z]{2}(-[a-z]+)+-\d+(-[a-z]+-\d+)?[a-z]$/;

/** A KMS key's ARN: a key id (a UUID, or `mrk-` and 32 hex digits for a multi-Region key), never an alias. */
const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/(mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;
/** The Region of an ARN. */
const REGION_OF_ARN = /^arn:[^:]+:[^:]+:([^:]+):/;

/**
 * A consuming node's own GeoServer, which its apply function changes through the REST API.
 * `network` puts the function in the GeoServer's VPC (subnets that route to it, security
 * groups it may leave through) and says how it reaches DynamoDB, SQS, S3 and Secrets Manager
 * from there: through a NAT the VPC already has, or through VPC endpoints the stack creates.
 */
const geoserverSchema = z
  .object({
    /** The GeoServer's base URL; its REST API is under `<url>/rest`. */
    url: z
      .url({ protocol: /^https?$/, error: "must be the GeoServer's http or https URL, e.g. http://10.0.3.21:8080/geoserver" })
      .refine((value) => !URL.canParse(value) || !/[?#]/.test(value), 'must have no query or fragment')
      .refine((value) => !URL.canParse(value) || (new URL(value).username === '' && new URL(value).password === ''), 'must not carry credentials: name a secret in credentialsSecret'),
    /** Secrets Manager secret (name or ARN) holding `{"username": ..., "password": ...}` of a GeoServer administrator. */
    credentialsSecret: z
      .string()
      .regex(
        // An ARN in full, with the six characters Secrets Manager appends to the name: the grant
        // is the ARN as given (config-sync-service.ts secretArn), which a partial one never matches.
        /^(arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}|[A-Za-z0-9/_+=.@-]{1,512})$/,
        'must be a Secrets Manager secret name or ARN (a full ARN, ending in the six characters Secrets Manager appends to the name)',
      ),
    /**
     * The customer managed KMS key the secret is encrypted with, by its key ARN; absent for the AWS
     * managed key (`aws/secretsmanager`). The secret's readers are granted `kms:Decrypt` on this
     * key, through Secrets Manager and for this secret only (config-sync-service.ts secretKeyGrant).
     */
    credentialsSecretKey: z
      .string()
      // IAM matches a grant against the key's own ARN: an alias (or its ARN) names the key to KMS
      // calls, never in a policy's Resource.
      .refine((value) => !/^alias\/|^arn:[^:]*:kms:[^:]*:[^:]*:alias\//.test(value), {
        message: "is an alias: name the key's ARN, e.g. from `aws kms describe-key --key-id <alias> --query KeyMetadata.Arn`",
        abort: true,
      })
      .regex(KMS_KEY_ARN, "must be the KMS key's full ARN, e.g. arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab")
      .optional(),
    network: z
      .object({
        vpcId: awsId('vpc'),
        // Lambda's VpcConfig limits: at most 16 subnets and 5 security groups per function.
        subnetIds: z.array(awsId('subnet')).min(1, 'must name at least one subnet').max(16, 'must name at most 16 subnets (Lambda)'),
        securityGroupIds: z.array(awsId('sg')).min(1, 'must name at least one security group').max(5, 'must name at most 5 security groups (Lambda)'),
        /**
         * `nat`: the subnets route to the internet through a NAT gateway; `vpc-endpoints`: the
         * stack creates gateway endpoints (DynamoDB, S3) on `routeTableIds` and interface
         * endpoints (SQS, Secrets Manager) in the subnets.
         */
        reachAws: z.enum(['nat', 'vpc-endpoints']),
        routeTableIds: z.array(awsId('rtb')).min(1, 'must name at least one route table').optional(),
        /**
         * With `vpc-endpoints`: the subnets of the interface endpoints, by Availability Zone (`{"eu-west-1a":
         * "subnet-..."}`). EC2 takes at most one subnet per zone for an interface endpoint, and a
         * subnet id does not say its zone, so the zones are named here. Required when `subnetIds`
         * names more than one subnet; otherwise that one subnet is taken.
         */
        endpointSubnets: z.record(z.string(), awsId('subnet')).optional(),
      })
      .strict()
      .superRefine((network, ctx) => {
        if (network.reachAws === 'vpc-endpoints' && !network.routeTableIds) {
          ctx.addIssue({ code: 'custom', path: ['routeTableIds'], message: "is required with reachAws 'vpc-endpoints': the DynamoDB and S3 gateway endpoints attach to route tables" });
        }
        if (network.endpointSubnets === undefined) {
          if (network.reachAws === 'vpc-endpoints' && network.subnetIds.length > 1) {
            ctx.addIssue({
              code: 'custom',
              path: ['endpointSubnets'],
              message:
                "is required with reachAws 'vpc-endpoints' and more than one subnet: an interface endpoint takes at most one subnet per Availability Zone, " +
                'and subnet ids do not say their zones. Name one subnet per zone, e.g. {"eu-west-1a": "subnet-0a1b2c3d", "eu-west-1b": "subnet-0a1b2c3e"}',
            });
          }
          return;
        }
        if (network.reachAws !== 'vpc-endpoints') {
          ctx.addIssue({ code: 'custom', path: ['endpointSubnets'], message: "is only for reachAws 'vpc-endpoints': with 'nat' the stack creates no endpoints" });
          return;
        }
        const zones = Object.entries(network.endpointSubnets);
        if (zones.length === 0) ctx.addIssue({ code: 'custom', path: ['endpointSubnets'], message: 'must name at least one subnet, by its Availability Zone' });
        const zoneOf = new Map<string, string>();
        for (const [zone, subnet] of zones) {
          if (!AVAILABILITY_ZONE.test(zone)) ctx.addIssue({ code: 'custom', path: ['endpointSubnets', zone], message: "must be an Availability Zone name, e.g. 'eu-west-1a'" });
          const other = zoneOf.get(subnet);
          if (other !== undefined) ctx.addIssue({ code: 'custom', path: ['endpointSubnets', zone], message: `${subnet} is named for ${other} too: a subnet is in one zone` });
          zoneOf.set(subnet, zone);
        }
      })
      .optional(),
  })
  .strict()
  .superRefine((geoserver, ctx) => {
    // Secrets Manager encrypts a secret with a key of the secret's own Region: any other never decrypts it.
    const secretRegion = REGION_OF_ARN.exec(geoserver.credentialsSecret)?.[1];
    const keyRegion = geoserver.credentialsSecretKey === undefined ? undefined : REGION_OF_ARN.exec(geoserver.credentialsSecretKey)?.[1];
    if (secretRegion !== undefined && keyRegion !== undefined && secretRegion !== keyRegion) {
      ctx.addIssue({ code: 'custom', path: ['credentialsSecretKey'], message: `is in ${keyRegion}, the secret in ${secretRegion}: a secret's KMS key is in the secret's Region` });
    }
  });

/** A declared node: the cluster model's name and role, and optionally its own GeoServer. */
const nodeSchema = z.object({ name: nodeNameSchema, role: nodeRoleSchema, geoserver: geoserverSchema.optional() }).strict();

// Names and roles follow the one cluster model the functions use too.
export const LOG_LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR'] as const;
const clusterSchema = z
  .object({
    name: clusterNameSchema,
    nodes: z.array(nodeSchema).superRefine((nodes, ctx) => {
      // The cluster model's rules on the declared nodes (unique names, a publisher, ...).
      const result = clusterNodesSchema.safeParse(nodes.map(({ name, role }) => ({ name, role })));
      if (result.success) return;
      for (const issue of result.error.issues) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
    }),
    /**
     * Read-only operator credentials (people and tools that watch the cluster): a token issued
     * like a node's (`npm run node-token -- <name>`) that may list and read, never write. Only
     * names declared here are accepted, so removing one revokes its token on the next deploy.
     */
    operators: z.array(z.object({ name: nodeNameSchema }).strict()).default([]),
    status: z
      .object({
        /** How long a completed status stays readable before cleanup removes it. */
        retentionMinutes: z.number().int().min(1).max(525600).default(1440),
        /** An active status with no write for this long is failed by the reaper. */
        heartbeatTimeoutSeconds: z.number().int().min(10).max(86400).default(300),
        cleanupSchedule: z.string().regex(RATE_EXPRESSION, "must be like 'rate(5 minutes)' or 'rate(1 minute)'").default('rate(15 minutes)'),
        reaperSchedule: z.string().regex(RATE_EXPRESSION, "must be like 'rate(1 minute)' or 'rate(5 minutes)'").default('rate(1 minute)'),
        /** Write shards of the secondary indexes; each shard takes about 1,000 writes/s. */
        indexShards: z.number().int().min(1).max(64).default(8),
        /** When true, polls and client dismisses need a token too (listings always do). */
        requireAuthForReads: z.boolean().default(false),
        /**
         * Origins whose browser scripts may poll (GET /executions/{id}, /ows, /jobs/{id},
         * /jobs/{id}/results, /conformance, /openapi.json): `["*"]` for any (a poll carries no
         * credentials; the id is the capability), a list of origins, or `[]` for none. Write
         * routes are never opened to browsers.
         */
        corsAllowedOrigins: z
          .array(
            z.union([
              z.literal('*'),
              z.string().regex(/^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$/, "must be '*' or an origin like 'https://maps.example.org'"),
            ]),
          )
          .default(['*']),
        /** Seconds a client is told to wait before polling a running execution again. */
        defaultRetryAfterSeconds: z.number().int().min(1).max(3600).default(5),
        /**
         * Where clients reach the API (a custom domain, possibly with a base path, or a CDN), for the
         * absolute URLs in status documents (statusLocation, links). By default each request's own
         * scheme and host are used, which is right when clients call API Gateway directly.
         */
        publicBaseUrl: z
          .url({ protocol: /^https?$/, error: 'must be an absolute http or https URL' })
          .refine((value) => !URL.canParse(value) || !/[?#]/.test(value), 'must have no query or fragment')
          .optional(),
      })
      .strict()
      .prefault({}),
    /**
     * The GeoServer REST gateway, `ANY /geoserver/rest/{proxy+}`: the master GeoServer's REST API
     * wherever the cluster API is, each write to a replicated type published to the cluster.
     */
    gateway: z
      .object({
        enabled: z.boolean().default(false),
        /** The node whose GeoServer it forwards to: a `both` node that declares `geoserver`. Required when several do. */
        master: z.optional(nodeNameSchema),
        /** Steady requests per second API Gateway lets through on the gateway route. */
        rateLimit: z.number().int().min(1).max(10000).default(20),
        /** Burst the route absorbs above the rate. */
        burstLimit: z.number().int().min(1).max(5000).default(40),
        /**
         * Keeps the gateway private: only these IPv4/IPv6 addresses and CIDR blocks (for example
         * an office's or a VPN's egress, a NAT gateway's Elastic IP) may call it; every other
         * caller gets 403 before anything reaches the master GeoServer. Checked by the gateway
         * function against the connection's source address (HTTP APIs have no resource policy,
         * WAF or private endpoint). @default every address may call
         */
        allowedSourceIps: z
          .array(z.string().superRefine((entry, ctx) => {
            const problem = allowListEntryProblem(entry);
            if (problem) ctx.addIssue({ code: 'custom', message: problem });
          }))
          .min(1, 'must list at least one address or CIDR block; leave the key out to let every address call the gateway')
          .max(100)
          .optional(),
      })
      .strict()
      .prefault({}),
    observability: z
      .object({
        /** Level of the functions' application logs (Powertools Logger and Lambda's log filter). */
        logLevel: z.enum(LOG_LEVELS).default('INFO'),
        /** Addresses subscribed to the alarm topic (each confirms by e-mail once). */
        alarmEmails: z.array(z.email({ error: 'must be an e-mail address' })).max(20).default([]),
        /** A node is alarmed when its lag (sequences behind the log head) stays above this ... */
        lagThreshold: z.number().int().min(0).max(1_000_000).default(100),
        /** ... for this many consecutive minutes. */
        lagMinutes: z.number().int().min(1).max(60).default(5),
        /** A node's queue is alarmed when its oldest message is older than this. */
        oldestMessageAgeSeconds: z.number().int().min(60).max(1_209_600).default(900),
        /** The API is alarmed when more than this percentage of requests in 5 minutes answer 5xx. */
        api5xxPercent: z.number().min(0.1).max(100).default(1),
        /** Publishing is alarmed when committed events stay unpublished for this many minutes. */
        republishBacklogMinutes: z.number().int().min(1).max(60).default(10),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .superRefine((cluster, ctx) => {
    if (cluster.gateway.enabled) {
      const masters = cluster.nodes.filter((node) => node.role !== 'slave' && node.geoserver);
      const named = cluster.gateway.master;
      if (named !== undefined && !masters.some((node) => node.name === named)) {
        ctx.addIssue({ code: 'custom', path: ['gateway', 'master'], message: `must name a 'both' node that declares geoserver; '${named}' is not one` });
      } else if (named === undefined && masters.length !== 1) {
        ctx.addIssue({
          code: 'custom',
          path: masters.length === 0 ? ['gateway', 'enabled'] : ['gateway', 'master'],
          message:
            masters.length === 0
              ? "needs a node with role 'both' that declares geoserver: the gateway forwards to its GeoServer"
              : `must name which of ${masters.map((node) => node.name).join(', ')} the gateway forwards to`,
        });
      }
    }
    cluster.nodes.forEach((node, index) => {
      if (node.geoserver && node.role === 'master') {
        ctx.addIssue({
          code: 'custom',
          path: ['nodes', index, 'geoserver'],
          message: 'a pure master applies no events, so it has no GeoServer to keep in sync: make it a slave or both',
        });
      }
    });
    const vpcs = new Map<string, string>();
    cluster.nodes.forEach((node, index) => {
      const network = node.geoserver?.network;
      if (!network) return;
      const seenMode = vpcs.get(network.vpcId);
      if (seenMode !== undefined && seenMode !== network.reachAws) {
        ctx.addIssue({ code: 'custom', path: ['nodes', index, 'geoserver', 'network', 'reachAws'], message: `must be the same for every node in ${network.vpcId}` });
      }
      vpcs.set(network.vpcId, network.reachAws);
    });
    // Nodes in one VPC share its interface endpoints (ConfigSyncService.placeInVpc): the subnets
    // they name for them must still be one per zone.
    const endpointSubnets = new Map<string, { zones: Map<string, { subnet: string; node: string }>; subnets: Map<string, { zone: string; node: string }> }>();
    cluster.nodes.forEach((node, index) => {
      const network = node.geoserver?.network;
      if (network?.reachAws !== 'vpc-endpoints' || !network.endpointSubnets) return;
      let vpc = endpointSubnets.get(network.vpcId);
      if (!vpc) endpointSubnets.set(network.vpcId, (vpc = { zones: new Map(), subnets: new Map() }));
      for (const [zone, subnet] of Object.entries(network.endpointSubnets)) {
        const path = ['nodes', index, 'geoserver', 'network', 'endpointSubnets', zone];
        const byZone = vpc.zones.get(zone);
        const bySubnet = vpc.subnets.get(subnet);
        if (byZone && byZone.subnet !== subnet) {
          ctx.addIssue({ code: 'custom', path, message: `node ${byZone.node} names ${byZone.subnet} for ${zone} in ${network.vpcId}, whose interface endpoints both nodes share (one subnet per zone)` });
        } else if (bySubnet && bySubnet.zone !== zone) {
          ctx.addIssue({ code: 'custom', path, message: `node ${bySubnet.node} names ${subnet} for ${bySubnet.zone} in ${network.vpcId}: a subnet is in one zone` });
        }
        if (!byZone) vpc.zones.set(zone, { subnet, node: node.name });
        if (!bySubnet) vpc.subnets.set(subnet, { zone, node: node.name });
      }
    });
    // One credentials table keyed by name holds both kinds of token, so the names must differ.
    const seen = new Set(cluster.nodes.map((node) => node.name));
    cluster.operators.forEach((operator, index) => {
      if (seen.has(operator.name)) {
        ctx.addIssue({ code: 'custom', path: ['operators', index, 'name'], message: `'${operator.name}' is already a node or operator name` });
      }
      seen.add(operator.name);
    });
  });

export type ClusterConfig = z.output<typeof clusterSchema>;
export type { ClusterNode } from '../lambdas/shared/cluster-model';
/** A declared node as the configuration states it, its GeoServer included. */
export type ClusterConfigNode = ClusterConfig['nodes'][number];

/** The node whose GeoServer the REST gateway forwards to, when the gateway is switched on. */
export function gatewayMaster(cluster: ClusterConfig): (ClusterConfigNode & { geoserver: NonNullable<ClusterConfigNode['geoserver']> }) | undefined {
  if (!cluster.gateway.enabled) return undefined;
  const node = cluster.nodes.find(
    (candidate) => candidate.role !== 'slave' && candidate.geoserver && (cluster.gateway.master === undefined || candidate.name === cluster.gateway.master),
  );
  return node?.geoserver ? (node as ClusterConfigNode & { geoserver: NonNullable<ClusterConfigNode['geoserver']> }) : undefined;
}

/**
 * The subnets of the interface endpoints the stack creates in `vpcId` (reachAws `vpc-endpoints`),
 * one per Availability Zone: those the VPC's nodes name in `endpointSubnets` (the schema has held
 * them to one per zone), in zone order; when none names any, the one subnet of the first node
 * placed there (a second node's might be in the same zone).
 */
export function interfaceEndpointSubnets(cluster: ClusterConfig, vpcId: string): string[] {
  const networks = cluster.nodes.flatMap((node) => {
    const network = node.geoserver?.network;
    return network?.vpcId === vpcId && network.reachAws === 'vpc-endpoints' ? [network] : [];
  });
  const byZone = new Map(networks.flatMap((network) => Object.entries(network.endpointSubnets ?? {})));
  if (byZone.size > 0) return [...byZone.keys()].sort().map((zone) => byZone.get(zone)!);
  const first = networks[0];
  if (!first || first.subnetIds.length !== 1) throw new Error(`No interface endpoint subnets for ${vpcId}: the cluster configuration should have required endpointSubnets`);
  return [...first.subnetIds];
}

export class ClusterConfigError extends Error {}

/**
 * Validates the raw configuration; throws one error listing every bad key as
 * `cluster.nodes[1].role: ...`.
 * @param source where it came from, for the message
 */
export function parseClusterConfig(raw: unknown, source = 'cdk.json context'): ClusterConfig {
  if (raw === undefined) {
    throw new ClusterConfigError("cdk.json context key 'cluster' is missing: declare the cluster name and its nodes (or pass -c clusterFile=path.json)");
  }
  const result = clusterSchema.safeParse(raw);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => `${formatPath(['cluster', ...issue.path])}: ${issue.message}`);
  throw new ClusterConfigError(`Invalid cluster configuration in ${source}:\n  ${lines.join('\n  ')}`);
}

/**
 * The cluster of a synth: the JSON file named by context `clusterFile` (`-c clusterFile=...`,
 * relative to the working directory) when given, else the `cluster` context of cdk.json.
 */
export function clusterConfigFromContext(context: (key: string) => unknown): ClusterConfig {
  const file = context('clusterFile');
  if (file === undefined || file === '') return parseClusterConfig(context('cluster'));
  if (typeof file !== 'string') throw new ClusterConfigError('Context clusterFile must be a file path');
  let text: string;
  try {
    text = readFileSync(path.resolve(file), 'utf8');
  } catch (error) {
    throw new ClusterConfigError(`Cannot read cluster file ${file}: ${(error as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ClusterConfigError(`Cluster file ${file} is not JSON: ${(error as Error).message}`);
  }
  return parseClusterConfig(raw, `cluster file ${file}`);
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (out, part) => (typeof part === 'number' ? `${out}[${part}]` : out ? `${out}.${String(part)}` : String(part)),
    '',
  );
}

/** Parses an EventBridge `rate(...)` expression into milliseconds (the local runtime's timers use it). */
export function rateToMs(expression: string): number {
  const match = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression);
  if (!match) throw new Error(`Unsupported schedule expression '${expression}'`);
  const unitMs = { minute: 60_000, minutes: 60_000, hour: 3_600_000, hours: 3_600_000, day: 86_400_000, days: 86_400_000 };
  return Number(match[1]) * unitMs[match[2] as keyof typeof unitMs];
}
