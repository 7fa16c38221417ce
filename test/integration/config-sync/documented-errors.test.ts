/**
 * Refusals of config sync's node routes that a client can only handle when the OpenAPI document
 * names them: the test client checks every answer's status against the document, so an answer
 * the route gives and the document leaves out fails here. Each refusal also changes nothing.
 */
import { api } from '../../support/cluster-client';

test('POST /nodes/{node}/resync with a body over 64 KiB is a 413, as documented, and starts no job', async () => {
  const jobOfSlave = async () => (await api('GET', '/nodes', { node: 'master-1' })).body.nodes?.find((node) => node.name === 'slave-1')?.job;
  const before = await jobOfSlave();
  const refused = await api('POST', '/nodes/slave-1/resync', {
    node: 'master-1',
    body: JSON.stringify({ source: 'master-1', pad: 'x'.repeat(70 * 1024) }),
    headers: { 'content-type': 'application/json' },
  });
  expect([refused.status, refused.body.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
  expect(await jobOfSlave()).toEqual(before);
});
