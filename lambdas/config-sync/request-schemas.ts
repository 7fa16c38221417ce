/**
 * Request bodies a config-sync handler validates with zod, apart from api.ts (which publishes
 * them in the OpenAPI document with every operation's prose and examples) so that a handler's
 * bundle carries its own schema only.
 */
import * as z from 'zod/mini';
import { nodeNameSchema } from '../shared/cluster-model';

/** Body of POST /nodes/{node}/resync (handlers/resync-node.ts). */
export const resyncRequestSchema = z.strictObject({
  source: z.optional(nodeNameSchema.check(z.describe('The node whose store is copied; another node than the target'))),
});
