// An SE 1.1 style whose name has a dot, uploaded through the gateway: its document is read back by
// its Accept header, as any style's, not with an extension (`.sld` would answer it converted to
// SLD 1.0), since the name ends in none GeoServer registers. The stand-in serves stored bytes
// whatever the extension, so it is wrapped here with that one behaviour of GeoServer's.
import { HttpUpstream } from '../../../../lambdas/config-sync/adapters/geoserver-upstream';
import type { ConfigChange } from '../../../../lambdas/config-sync/events';
import { handleGatewayCall, type GatewayRequest, type Upstream } from '../../../../lambdas/config-sync/gateway/gateway';
import { standInPerTest } from '../../../support/standin-per-test';
import { masterView } from './master-view';

const ADMIN = 'Basic ' + Buffer.from('admin:geoserver').toString('base64');
const SE11 = '<StyledLayerDescriptor version="1.1.0"><NamedLayer><se:Name>roads</se:Name></NamedLayer></StyledLayerDescriptor>';
const CONVERTED = '<StyledLayerDescriptor version="1.0.0"><NamedLayer><Name>roads</Name></NamedLayer></StyledLayerDescriptor>';
const standIn = standInPerTest();

test('the gateway publishes an SE 1.1 style named roads.v2 with the document the master holds', async () => {
  const master = standIn.geoserver;
  const http = new HttpUpstream(master.url, 5000, 6 * 1024 * 1024);
  const upstream: Upstream = {
    async send(request: GatewayRequest, timeoutMs?: number) {
      const answer = await http.send(request, timeoutMs);
      // GeoServer: the `.sld` extension asks for SLD 1.0, and an SE 1.1 style is converted.
      if (request.method === 'GET' && request.path.endsWith('.sld') && answer.status === 200 && answer.body.toString('utf8') === SE11) {
        return { ...answer, body: Buffer.from(CONVERTED) };
      }
      return answer;
    },
  };
  const published: ConfigChange[] = [];
  const publisher = { publish: async (change: ConfigChange) => published.push(change) };
  const response = await handleGatewayCall(
    upstream,
    publisher,
    { method: 'POST', path: '/styles', query: 'name=roads.v2&raw=true', headers: { authorization: ADMIN, 'content-type': 'application/vnd.ogc.se+xml' }, body: Buffer.from(SE11) },
    { readBack: masterView(upstream) },
  );
  expect(response.status).toBe(201);
  expect(published.map((c) => [c.kind, c.object.id, c.kind === 'add' ? c.properties.body : undefined])).toEqual([['add', 'roads.v2', SE11]]);
});
