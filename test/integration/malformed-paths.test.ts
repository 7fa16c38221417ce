/**
 * A path whose %-escapes do not decode to UTF-8 is refused before routing, with API Gateway's
 * own body (`{"message":"Bad Request"}`), on any route with a path parameter, without a token.
 * Each answer goes through the client's check against the OpenAPI document, which must declare it.
 */
import { api } from '../support/cluster-client';

it.each([
  ['GET', '/nodes/%E0%A4%A/catalog'],
  ['GET', '/nodes/slave-1/catalog/style/%E0%A4%A'],
  ['POST', '/nodes/%/pause'],
  ['GET', '/executions/%E0%A4%A'],
  ['GET', '/jobs/%E0%A4%A'],
])('%s %s: 400, as the OpenAPI document declares', async (method, path) => {
  const answer = await api(method as 'GET', path as never, { node: 'master-1' });
  expect(answer.status).toBe(400);
  expect(answer.body).toEqual({ message: 'Bad Request' });
});
