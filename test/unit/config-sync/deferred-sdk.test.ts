/**
 * Where a function's SNS/SQS client comes from (adapters/deferred-sdk.ts): a module the
 * function imports gives a client created at once (its cold start); a loader is called, and the
 * client created, on the first send only, once.
 */
import { SdkClient } from '../../../lambdas/config-sync/adapters/deferred-sdk';

interface FakeSdk {
  readonly Client: new () => { readonly id: number };
}

let created = 0;
const sdk: FakeSdk = {
  Client: class {
    readonly id = ++created;
  },
};

beforeEach(() => {
  created = 0;
});

test('a module given itself: the client is created at construction, and kept', () => {
  const client = new SdkClient<FakeSdk, { readonly id: number }>(sdk, (module) => new module.Client());
  expect(created).toBe(1);
  expect(client.connect().client.id).toBe(1);
  expect(client.connect().client.id).toBe(1);
  expect(client.connect().sdk).toBe(sdk);
  expect(created).toBe(1);
});

test('a loader: nothing is loaded or created until the first connect, then once', () => {
  const load = jest.fn(() => sdk);
  const client = new SdkClient<FakeSdk, { readonly id: number }>(load, (module) => new module.Client());
  expect(load).not.toHaveBeenCalled();
  expect(created).toBe(0);
  expect(client.connect().client.id).toBe(1);
  expect(client.connect().client.id).toBe(1);
  expect(load).toHaveBeenCalledTimes(1);
  expect(created).toBe(1);
});

test('a loader that fails is tried again on the next send', () => {
  const load = jest.fn<FakeSdk, []>().mockImplementationOnce(() => {
    throw new Error('Cannot find module');
  });
  load.mockImplementation(() => sdk);
  const client = new SdkClient<FakeSdk, { readonly id: number }>(load, (module) => new module.Client());
  expect(() => client.connect()).toThrow('Cannot find module');
  expect(client.connect().client.id).toBe(1);
  expect(load).toHaveBeenCalledTimes(2);
});
