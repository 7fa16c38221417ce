/**
 * GET /nodes: every declared node with its role, the last sequence applied to its store, its
 * lag behind the event log's head, and, for consuming nodes, the depth of its queue and of its
 * dead-letter queue (a pure master has neither: `null`), and whether it is paused (`paused`,
 * `pausedSince`, `pausedBy`). A non-zero dead-letter depth is a
 * message the node could not even read: `POST /nodes/{node}/redrive` retries it.
 *
 * `failing` is the event after the cursor that failed and is being retried (with its attempts
 * and last error); `parked` lists the events the node parked (see apply.ts), per object, with
 * why: the node applied everything else, and `POST /nodes/{node}/redrive` (after a fix) or
 * `POST /nodes/{node}/resync` clears them (unless its source holds them parked too).
 *
 * A node with a GeoServer also shows `geoserver`: its URL, whether it takes changes
 * (`reachable`), its version, the last error with its time, the changes it refused (each also
 * parked) and the properties a PUT could not clear, as the node's apply function last
 * recorded them, after a batch of events or a slice of a job (`reachable: null` before its
 * first change or job reached it).
 *
 * `job` is every node's latest job (a resync; a GeoServer node's drift check, reconcile,
 * capture; see jobs.ts) with its state and progress, or null: a job that failed stays shown,
 * with its `error`, until the node's next job replaces it.
 *
 * `resync` is the resync holding the node, if one does (every node): running, or `incomplete`
 * when it failed or stopped after its copy began, with why and the request that resumes it
 * (the node applies no events meanwhile; see job-runner.ts).
 */
import { callerIdentity, httpHandler, json } from '../../shared/http';
import {
  eventLogFromEnv,
  geoServerNodesFromEnv,
  geoServerStatusFromEnv,
  jobStoreFromEnv,
  membershipFromEnv,
  nodePausesFromEnv,
  nodeStoreFromEnv,
  queueDepthsFromEnv,
  sqsFromEnv,
} from '../adapters/from-env';
import { initialStatus } from '../geoserver/status';
import { jobView, resyncHoldView } from '../jobs';
import { lagCounter } from '../lag';
import { parkedView } from '../ports';
// Every listing reads the queues' depths: the SQS client is bundled and created at cold start.
import * as sqsSdk from '../adapters/sqs-sdk';

const membership = membershipFromEnv();
const log = eventLogFromEnv();
const store = nodeStoreFromEnv();
const queues = queueDepthsFromEnv(membership, sqsFromEnv(sqsSdk));
const pauses = nodePausesFromEnv();
const geoservers = geoServerNodesFromEnv(membership);
const statuses = geoServerStatusFromEnv();
const jobs = jobStoreFromEnv();

export const handler = httpHandler(async (event) => {
  // A node's or an operator's read (the route's authorizer); fails closed without one.
  callerIdentity(event);
  // The head first: a cursor read after it can only be closer, so lag is never negative
  // for a node that is in fact current.
  const head = await log.head(membership.cluster);
  const lagOf = lagCounter(log, membership.cluster, head);
  const nodes = await Promise.all(
    membership.nodes.map(async ({ name, role }) => {
      const url = Object.hasOwn(geoservers, name) ? geoservers[name] : undefined;
      const [progress, parked, depths, pause, status, job] = await Promise.all([
        store.readProgress(name),
        store.listParked(name),
        queues.depths(name),
        pauses.read(name),
        url === undefined ? undefined : statuses.read(name),
        jobs.latest(name),
      ]);
      const { cursor, failing } = progress;
      const holding = progress.heldBy === undefined ? undefined : await jobs.read(name, progress.heldBy);
      return {
        name,
        role,
        lastAppliedSequence: cursor,
        lag: await lagOf(cursor),
        queueDepth: depths?.queueDepth ?? null,
        deadLetterDepth: depths?.deadLetterDepth ?? null,
        failing: failing ?? null,
        parked: parked.map(parkedView),
        paused: pause !== undefined,
        ...(pause ? { pausedSince: pause.since, pausedBy: pause.by } : {}),
        resync: resyncHoldView(name, progress, holding, new Date()),
        job: job ? jobView(job) : null,
        ...(url === undefined ? {} : { geoserver: status && status.url === url ? status : initialStatus(url) }),
      };
    }),
  );
  return json(200, { head, nodes }, { 'cache-control': 'no-store' });
});
