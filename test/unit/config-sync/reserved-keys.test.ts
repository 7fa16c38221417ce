/**
 * Keys that are special to JavaScript objects (`__proto__`, `constructor`, `prototype`) are
 * ordinary keys of a configuration object: published, logged, carried, merged and stored like
 * any other, never dropped and never touching a prototype.
 */
import { applyDeliveredEvent, catchUp } from '../../../lambdas/config-sync/apply';
import { parseEventMessage } from '../../../lambdas/config-sync/events';
import { publishChange } from '../../../lambdas/config-sync/publish';
import { applyDeps, CLUSTER, harness } from './fixtures';

const MASTER = { cluster: CLUSTER, node: { name: 'master-1', role: 'master' as const } };
const SLAVE = { cluster: CLUSTER, node: 'slave-1' };

// As the HTTP edge hands bodies over: parsed by JSON.parse, where `__proto__` is an own key.
const addBody = JSON.parse(
  '{"kind":"add","object":{"type":"layerGroup","id":"topp:keys"},' +
    '"properties":{"__proto__":{"polluted":true},"constructor":"c","prototype":{"p":1},"nested":{"__proto__":[1,2]},' +
    '"publishables":{"published":{"@type":"layer","name":"topp:roads"}}}}',
) as unknown;
const patchBody = JSON.parse(
  '{"kind":"modify","object":{"type":"layerGroup","id":"topp:keys"},"patch":{"__proto__":{"extra":1},"nested":{"__proto__":null,"kept":true}}}',
) as unknown;

describe('reserved JavaScript keys in properties and patches', () => {
  it('are kept as ordinary keys from publish to a slave store, through merge patch', async () => {
    const h = harness();
    const added = await publishChange(h.deps, MASTER, addBody);
    const patched = await publishChange(h.deps, MASTER, patchBody);
    for (const { event } of [added, patched]) {
      await applyDeliveredEvent(applyDeps(h), SLAVE, parseEventMessage(JSON.stringify(event)) as never);
    }
    await catchUp(applyDeps(h), SLAVE);
    const [stored] = await h.store.readObjects('slave-1', [{ type: 'layerGroup', id: 'topp:keys' }]);
    const expected =
      '{"__proto__":{"polluted":true,"extra":1},"constructor":"c","prototype":{"p":1},"nested":{"kept":true},"publishables":{"published":{"@type":"layer","name":"topp:roads"}}}';
    expect(JSON.stringify(stored?.properties)).toBe(expected);
    // An own data property, not the prototype: nothing leaked into objects.
    const properties = stored?.properties as Record<string, unknown>;
    expect(Object.getOwnPropertyDescriptor(properties, '__proto__')?.value).toEqual({ polluted: true, extra: 1 });
    expect(properties.polluted).toBeUndefined();
    expect(Object.getPrototypeOf(Object.getPrototypeOf(properties))).toBeNull(); // a plain object's prototype
    expect(Object.keys(stored?.properties ?? {})).toEqual(['__proto__', 'constructor', 'prototype', 'nested', 'publishables']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // The master's own store and the log hold the same.
    const [own] = await h.store.readObjects('master-1', [{ type: 'layerGroup', id: 'topp:keys' }]);
    expect(JSON.stringify(own?.properties)).toBe(expected);
    expect(JSON.stringify(added.event)).toContain('"__proto__":{"polluted":true}');
  });
});
