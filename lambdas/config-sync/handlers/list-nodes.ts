/**
 * GET /nodes: every declared node with its role, the last sequence applied to its store, its
 * lag behind the event log's head, and, for consuming nodes, the depth of its queue and of its
 * dead-letter queue (a pure master has neither: `null`). A non-zero dead-letter depth is an
 * event the node could not apply: `POST /nodes/{node}/redrive` retries it.
 */
import { httpHandler, json } from '../../shared/http';
import { eventLogFromEnv, membershipFromEnv, nodeStoreFromEnv, queueDepthsFromEnv } from '../adapters/from-env';

const membership = membershipFromEnv();
const log = eventLogFromEnv();
const store = nodeStoreFromEnv();
const queues = queueDepthsFromEnv(membership);

export const handler = httpHandler(async () => {
  // The head first: a cursor read after it can only be closer, so lag is never negative
  // for a node that is in fact current.
  const head = await log.head(membership.cluster);
  const nodes = await Promise.all(
    membership.nodes.map(async ({ name, role }) => {
      const [cursor, depths] = await Promise.all([store.readCursor(name), queues.depths(name)]);
      return {
        name,
        role,
        lastAppliedSequence: cursor,
        lag: Math.max(0, head - cursor),
        queueDepth: depths?.queueDepth ?? null,
        deadLetterDepth: depths?.deadLetterDepth ?? null,
      };
    }),
  );
  return json(200, { head, nodes }, { 'cache-control': 'no-store' });
});
