/**
 * The gateway's source allow list (cluster.gateway.allowedSourceIps): which entries are valid, and
 * which callers pass.
 */
import { allowListEntryProblem, sourceAllowList } from '../../../../lambdas/config-sync/gateway/source-allow-list';

test.each([
  ['203.0.113.7', undefined],
  ['203.0.113.0/24', undefined],
  ['0.0.0.0/0', undefined],
  ['2001:db8::1', undefined],
  ['2001:db8::/32', undefined],
  ['203.0.113.0/33', 'prefix length that is not 0-32'],
  ['2001:db8::/129', 'prefix length that is not 0-128'],
  ['203.0.113.0/', 'prefix length'],
  ['203.0.113.0/2a', 'prefix length'],
  ['203.0.113', 'not an IPv4 or IPv6 address'],
  ['example.org', 'not an IPv4 or IPv6 address'],
  ['', 'not an IPv4 or IPv6 address'],
])('%s', (entry, problem) => {
  if (problem === undefined) expect(allowListEntryProblem(entry)).toBeUndefined();
  else expect(allowListEntryProblem(entry)).toContain(problem);
});

test('addresses and blocks of both families; anything else is refused', () => {
  const list = sourceAllowList(['203.0.113.0/24', '198.51.100.7', '2001:db8::/32']);
  expect(list.allows('203.0.113.200')).toBe(true);
  expect(list.allows('203.0.114.1')).toBe(false);
  expect(list.allows('198.51.100.7')).toBe(true);
  expect(list.allows('198.51.100.8')).toBe(false);
  expect(list.allows('2001:db8:ffff::1')).toBe(true);
  expect(list.allows('2001:db9::1')).toBe(false);
  // an IPv4 peer seen through a dual-stack socket
  expect(list.allows('::ffff:203.0.113.9')).toBe(true);
  expect(list.allows('::ffff:192.0.2.1')).toBe(false);
  // not an address at all (never trusted)
  expect(list.allows('')).toBe(false);
  expect(list.allows('203.0.113.1, 10.0.0.1')).toBe(false);
});

test('a bad entry is an error naming it', () => {
  expect(() => sourceAllowList(['203.0.113.0/24', 'office'])).toThrow("'office' is not an IPv4 or IPv6 address");
});
