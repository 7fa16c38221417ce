import { mergePatch, mergePatchBetween, mergePatchObject, wholeStatePatch, type JsonObject, type JsonValue } from '../../../lambdas/config-sync/merge-patch';
import { deletedPaths } from '../../../lambdas/config-sync/geoserver/apply';

describe('JSON Merge Patch (RFC 7386)', () => {
  // Every example of RFC 7386 Appendix A.
  const rfcExamples: [JsonValue, JsonValue, JsonValue][] = [
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [['a', 'b'], ['c', 'd'], ['c', 'd']],
    [{ a: 'b' }, ['c'], ['c']],
    [{ a: 'foo' }, null, null],
    [{ a: 'foo' }, 'bar', 'bar'],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ];

  it.each(rfcExamples)('%j patched with %j gives %j', (target, patch, expected) => {
    expect(mergePatch(target, patch)).toEqual(expected);
  });

  it('treats a missing target as an empty object, so nulls in the patch vanish', () => {
    expect(mergePatch(undefined, { a: null, b: { c: null, d: 1 } })).toEqual({ b: { d: 1 } });
  });

  it('mutates neither the target nor the patch', () => {
    const target: JsonObject = { a: { b: 1, c: [1, 2] }, d: 'x' };
    const patch: JsonObject = { a: { b: null, e: { f: 1 } }, d: null };
    const targetCopy = structuredClone(target);
    const patchCopy = structuredClone(patch);
    const result = mergePatchObject(target, patch);
    expect(result).toEqual({ a: { c: [1, 2], e: { f: 1 } } });
    expect(target).toEqual(targetCopy);
    expect(patch).toEqual(patchCopy);
  });

  it('is idempotent, so a redelivered patch changes nothing more', () => {
    const target: JsonObject = { title: 'Roads', metadata: { cache: { enabled: true, maxAge: 60 } }, keywords: ['a'] };
    const patch: JsonObject = { metadata: { cache: { maxAge: null, size: 5 } }, keywords: ['b', 'c'], title: null };
    const once = mergePatchObject(target, patch);
    expect(mergePatchObject(once, patch)).toEqual(once);
  });

  it('keeps a "__proto__" key as ordinary data instead of changing the prototype', () => {
    const patch = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as JsonObject;
    const result = mergePatchObject({}, patch);
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
    expect(Object.hasOwn(result, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(JSON.stringify(result)).toBe('{"__proto__":{"polluted":true},"a":1}');
  });
});

describe('the patch between two states, for keys named like Object.prototype members', () => {
  const before = JSON.parse('{"name":"x","constructor":"a","toString":"b","__proto__":{"c":1}}') as JsonObject;
  const after = JSON.parse('{"name":"y","valueOf":"v","__proto__":{"c":2}}') as JsonObject;

  it.each([
    ['mergePatchBetween', mergePatchBetween],
    ['wholeStatePatch', wholeStatePatch],
  ])('%s turns one into the other', (_, between) => {
    const patch = between(before, after);
    const sorted = (value: JsonValue) => JSON.stringify(Object.entries(value as JsonObject).sort(([a], [b]) => a.localeCompare(b)));
    expect(sorted(mergePatch(before, patch))).toBe(sorted(after));
    expect(Object.getPrototypeOf(patch)).toBe(Object.prototype);
  });

  it('deletedPaths lists only properties the object had', () => {
    expect(deletedPaths({ name: 'x' }, JSON.parse('{"toString":null,"valueOf":null}') as JsonObject)).toEqual([]);
    expect(deletedPaths(before, JSON.parse('{"toString":null,"name":null}') as JsonObject)).toEqual(['toString', 'name']);
  });
});
