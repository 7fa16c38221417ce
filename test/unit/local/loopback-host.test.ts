/**
 * The Host rule every local listener applies against DNS rebinding (local/loopback-host.cjs;
 * LoopbackDynamoDbLocal.java applies the same to DynamoDB Local, test/integration/emulators.test.ts).
 */
import { foreignHostMessage, hostName, isLoopbackHost } from '../../../local/loopback-host.cjs';

test.each(['127.0.0.1', '127.0.0.1:3000', 'localhost', 'LocalHost:8000', '[::1]', '[::1]:4566', 'sqs.us-east-1.localhost:4566', ' localhost '])('%j names loopback', (host) => {
  expect(isLoopbackHost(host)).toBe(true);
});

test.each([
  'evil.example',
  'evil.example:3000',
  '127.0.0.1.evil.example',
  'localhost.evil.example:3000',
  'localhost:abc',
  'localhost:3000:3000',
  'user@localhost',
  'localhost/path',
  '127.0.0.2',
  '[::2]',
  '',
  undefined,
])('%j does not', (host) => {
  expect(isLoopbackHost(host)).toBe(false);
});

test('names given besides loopback are taken, case-insensitively, with or without a port, and only those', () => {
  expect(isLoopbackHost('GeoServer-Host:3000', ['geoserver-host'])).toBe(true);
  expect(isLoopbackHost('geoserver-host', ['geoserver-host'])).toBe(true);
  expect(isLoopbackHost('other-host', ['geoserver-host'])).toBe(false);
  expect(hostName('Api.Example:443')).toBe('api.example');
});

test('the refusal names the Host it got, or says there was none', () => {
  expect(foreignHostMessage('evil.example', 'the local API')).toMatch(/^Host 'evil\.example' is not a loopback name: the local API serves only requests addressed to 127\.0\.0\.1, localhost, \[::1\] or a name under \.localhost/);
  expect(foreignHostMessage(undefined, 'the local API')).toMatch(/^A request without a Host header is not a loopback name/);
});
