/**
 * The gateway in front of a stand-in master for the unit tests of its refusals: every request it
 * sends the master (its forwards, and its read-backs with the master node's credentials) is kept
 * (`sent`), and what it publishes is kept in a master's store (storing-publisher).
 */
import { HttpUpstream } from '../../../../lambdas/config-sync/adapters/geoserver-upstream';
import { handleGatewayCall, type GatewayRequest } from '../../../../lambdas/config-sync/gateway/gateway';
import { catalogInStore } from '../../../../lambdas/config-sync/gateway/master-catalog';
import type { GeoServerStandIn } from '../../../support/geoserver-standin';
import { MASTER_NODE, storingPublisher } from './storing-publisher';
import { masterView } from './master-view';

const ADMIN = 'Basic ' + Buffer.from('admin:geoserver').toString('base64');

/** A request to the gateway as the master's admin. */
export function adminRequest(method: string, path: string, body: string, contentType = 'application/json', query = ''): GatewayRequest {
  return { method, path, query, headers: { authorization: ADMIN, 'content-type': contentType }, body: Buffer.from(body) };
}

/** The gateway, forwarding to `master`, and what it sent and published. */
export function recordingGateway(master: GeoServerStandIn) {
  const storing = storingPublisher();
  const upstream = new HttpUpstream(master.url, 5000, 6 * 1024 * 1024);
  const sent: GatewayRequest[] = [];
  const recording = { send: (call: GatewayRequest, timeoutMs?: number) => (sent.push(call), upstream.send(call, timeoutMs)) };
  const send = (call: GatewayRequest) => handleGatewayCall(recording, storing, call, { catalog: catalogInStore(storing.store, MASTER_NODE), readBack: masterView(recording) });
  return { storing, sent, send, master };
}
