/**
 * JSON values and JSON Merge Patch (RFC 7386), the semantics of a `modify` event.
 *
 * Why merge patch rather than a shallow property replace: GeoServer settings are nested
 * (e.g. a service's `metadata`, a store's `connectionParameters`), and a master that changes
 * one nested key must not have to resend, and race on, its siblings. Merge patch is the
 * standard way to say "these keys changed, `null` means removed", and it is idempotent:
 * applying the same patch twice gives the same result, which keeps redelivery harmless.
 * Its one limit is that arrays are replaced whole; GeoServer's lists (keywords, styles of a
 * layer) are small, so sending the full new list is acceptable.
 */

export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export function isJsonObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Applies `patch` to `target` as RFC 7386 section 2 describes, without mutating either:
 * an object patch merges key by key (a `null` member deletes the key, any other member is
 * merged recursively into the target's member); any other patch replaces the target.
 *
 * Objects are rebuilt with `Object.fromEntries` (a data-property definition, not an
 * assignment), so a key named `__proto__` stays an ordinary key instead of changing the
 * result's prototype.
 */
export function mergePatch(target: JsonValue | undefined, patch: JsonValue): JsonValue {
  if (!isJsonObject(patch)) return patch;
  const merged = new Map<string, JsonValue>(isJsonObject(target) ? Object.entries(target) : []);
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) merged.delete(key);
    else merged.set(key, mergePatch(merged.get(key), value));
  }
  return Object.fromEntries(merged);
}

/** Merge patch of an object's properties: the result of an object patch is always an object. */
export function mergePatchObject(target: JsonObject | undefined, patch: JsonObject): JsonObject {
  const merged = mergePatch(target, patch);
  // Unreachable by construction (an object patch yields an object); kept so the type is honest.
  if (!isJsonObject(merged)) throw new TypeError('merge patch of an object must yield an object');
  return merged;
}

/**
 * RFC 7396: the merge patch that turns `before` into `after` (null deletes a property).
 * Like `mergePatch`, it reads own keys only and builds with `Object.fromEntries`, so keys named
 * like `Object.prototype` members (`constructor`, `toString`, `__proto__`) are kept as sent.
 */
export function mergePatchBetween(before: JsonObject, after: JsonObject): JsonObject {
  const patch = removals(before, after);
  for (const [key, value] of Object.entries(after)) {
    const old = Object.hasOwn(before, key) ? before[key] : undefined;
    if (isJsonObject(value) && isJsonObject(old)) {
      const inner = mergePatchBetween(old, value);
      if (Object.keys(inner).length > 0) patch.set(key, inner);
    } else if (JSON.stringify(old) !== JSON.stringify(value)) {
      patch.set(key, value);
    }
  }
  return Object.fromEntries(patch);
}

/**
 * A merge patch that leaves any target equal to `after`, whatever it held (RFC 7396 merges
 * objects key by key): every value of `after`, and null for every key `before` had that `after`
 * lacks. A node whose store never saw the object's earlier state (settings that existed before
 * anyone published them, objects made outside the gateway) still ends with the master's.
 */
export function wholeStatePatch(before: JsonObject, after: JsonObject): JsonObject {
  const patch = removals(before, after);
  for (const [key, value] of Object.entries(after)) {
    const old = Object.hasOwn(before, key) ? before[key] : undefined;
    patch.set(key, isJsonObject(value) ? wholeStatePatch(isJsonObject(old) ? old : {}, value) : value);
  }
  return Object.fromEntries(patch);
}

/** `null` for every key of `before` that `after` lacks: a merge patch's removals. */
function removals(before: JsonObject, after: JsonObject): Map<string, JsonValue> {
  const patch = new Map<string, JsonValue>();
  for (const key of Object.keys(before)) if (!Object.hasOwn(after, key)) patch.set(key, null);
  return patch;
}
