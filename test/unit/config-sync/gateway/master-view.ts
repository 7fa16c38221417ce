/**
 * The gateway's read-back of a stand-in master in its unit tests, as the gateway function builds
 * it (handlers/geoserver-gateway.ts): the same master, every read made with the master node's own
 * credentials (gateway/master-read-back.ts), here the stand-in's admin.
 */
import type { Upstream } from '../../../../lambdas/config-sync/gateway/gateway';
import { masterReadBack } from '../../../../lambdas/config-sync/gateway/master-read-back';

/** The master node's GeoServer credentials: the stand-in's default user. */
export const MASTER_NODE_CREDENTIALS = { username: 'admin', password: 'geoserver' } as const;

/** `upstream` as the gateway reads its writes back: with the master node's credentials, whatever the call carries. */
export function masterView(upstream: Upstream): Upstream {
  return masterReadBack(upstream, { get: async () => MASTER_NODE_CREDENTIALS, invalidate: () => undefined });
}
