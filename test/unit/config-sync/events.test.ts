import { InvalidConfigEventError } from '../../../lambdas/config-sync/errors';
import {
  consecutiveRuns,
  deduplicationId,
  fieldPath,
  MAX_INLINE_EVENT_BYTES,
  messageGroupId,
  mustOffload,
  objectId,
  objectStorageKey,
  OBJECT_TYPES,
  parseConfigChange,
  parseEventMessage,
  parsePublishedEvent,
  splitObjectId,
  type ObjectType,
} from '../../../lambdas/config-sync/events';

/** The field and message of the error `parseConfigChange(body)` throws. */
function rejection(parse: () => unknown): { field: string | undefined; message: string; status: number; code: string } {
  try {
    parse();
  } catch (error) {
    if (!(error instanceof InvalidConfigEventError)) throw error;
    return { field: error.field, message: error.message, status: error.status, code: error.code };
  }
  throw new Error('expected the input to be rejected');
}

const metadata = { sequence: 7, cluster: 'prod', origin: 'master-1', publishedAt: '2025-01-01T00:00:00.000Z' };

describe('object ids', () => {
  const valid: [ObjectType, string][] = [
    ['workspace', 'topp'],
    ['namespace', 'topp'],
    ['dataStore', 'topp:states_shapefile'],
    ['coverageStore', 'nurc:arcGridSample'],
    ['wmsStore', 'topp:remote-wms'],
    ['wmtsStore', 'topp:remote-wmts'],
    ['featureType', 'topp:states'],
    ['coverage', 'nurc:Arc_Sample'],
    ['wmsLayer', 'topp:cascaded'],
    ['wmtsLayer', 'topp:cascaded-tiles'],
    ['layer', 'topp:states'],
    ['layerGroup', 'spearfish'],
    ['layerGroup', 'topp:tasmania'],
    ['style', 'polygon'],
    ['style', 'topp:states-style'],
    // Dots are fine in names; only a whole name "." or ".." is a dot segment.
    ['style', '...'],
    ['style', '.hidden'],
    ['style', 'topp:..x'],
    ['dataStore', 'topp:v1.2'],
    ['workspaceSettings', 'topp'],
    ['service', 'WMS'],
    ['service', 'topp:WFS'],
    ['global', 'global'],
    ['logging', 'logging'],
  ];

  it.each(valid)('accepts a %s with id %s', (type, id) => {
    const change = parseConfigChange({ kind: 'modify', object: { type, id }, patch: { title: 'x' } });
    expect(change.object).toEqual({ type, id });
  });

  const invalid: [ObjectType, string][] = [
    ['workspace', 'topp:states'],
    ['workspace', ''],
    ['workspace', 'has space'],
    ['namespace', 'a/b'],
    ['dataStore', 'states_shapefile'],
    ['featureType', 'topp:'],
    ['layer', ':states'],
    ['layer', 'a:b:c'],
    ['style', 'a:b:c'],
    ['service', 'wms'],
    ['service', 'topp:wfs'],
    ['workspaceSettings', 'topp:x'],
    ['global', 'other'],
    ['logging', 'global'],
    // Dot segments: a REST path built from them would reach another object (`/styles/..:point`).
    ['style', '..'],
    ['style', '.'],
    ['style', '..:point'],
    ['style', 'topp:..'],
    ['workspace', '..'],
    ['dataStore', '.:x'],
    ['layer', 'topp:.'],
    ['layerGroup', '..:tasmania'],
    ['service', '..:WMS'],
    // A backslash: a servlet container may read it as "/" (Tomcat's allowBackslash), so that
    // `DELETE /styles/a%5C..%5C..%5Cworkspaces%5Ctopp` would remove workspace topp.
    ['style', 'a\\..\\..\\workspaces\\topp'],
    ['dataStore', 'topp:a\\b'],
    ['workspace', '\\'],
  ];

  it.each(invalid)('rejects a %s with id "%s", naming object.id', (type, id) => {
    expect(rejection(() => parseConfigChange({ kind: 'modify', object: { type, id }, patch: { a: 1 } }))).toMatchObject({
      field: 'object.id',
      status: 400,
      code: 'INVALID_REQUEST',
    });
  });

  it.each([
    ['workspace', 'default'],
    ['namespace', 'default'],
    ['workspaceSettings', 'default'],
    ['dataStore', 'default:pg'],
    ['layer', 'default:roads'],
    ['style', 'default:lines'],
    ['service', 'default:WMS'],
  ])('refuses %s "%s": GeoServer reserves the workspace name default', (type, id) => {
    expect(rejection(() => parseConfigChange({ kind: 'modify', object: { type, id }, patch: { a: 1 } }))).toMatchObject({
      field: 'object.id',
      status: 400,
      message: expect.stringContaining('"default" is reserved by GeoServer'),
    });
  });

  it('takes default as the name of anything but a workspace', () => {
    for (const [type, id] of [
      ['style', 'default'],
      ['layerGroup', 'default'],
      ['dataStore', 'topp:default'],
      ['workspace', 'defaults'],
    ]) {
      expect(parseConfigChange({ kind: 'modify', object: { type, id }, patch: { a: 1 } } as never).object).toEqual({ type, id });
    }
  });

  it('bounds ids in UTF-8 bytes, the unit of the store keys built from them', () => {
    // 256 two-byte characters fit; one more does not, though it is far from 512 characters.
    expect(parseConfigChange({ kind: 'add', object: { type: 'workspace', id: 'é'.repeat(256) }, properties: {} }).object.id).toHaveLength(256);
    expect(rejection(() => parseConfigChange({ kind: 'add', object: { type: 'workspace', id: 'é'.repeat(257) }, properties: {} }))).toMatchObject({
      field: 'object.id',
      message: 'object.id: must be at most 512 bytes in UTF-8 (a character outside ASCII takes 2 to 4)',
    });
    expect(rejection(() => parseConfigChange({ kind: 'remove', object: { type: 'style', id: `topp:${'€'.repeat(200)}` } })).field).toBe('object.id');
    // An event already in the log with such an id is refused too: parked as unreadable, with a key that fits.
    expect(() => parsePublishedEvent({ ...metadata, kind: 'add', object: { type: 'workspace', id: 'é'.repeat(512) }, properties: {} })).toThrow(InvalidConfigEventError);
  });

  it('takes a patch whose only key is __proto__ as the change of that property, and still refuses an empty one', () => {
    const change = parseConfigChange(JSON.parse('{"kind":"modify","object":{"type":"workspace","id":"a"},"patch":{"__proto__":{"a":1}}}'));
    expect(change.kind === 'modify' && Object.keys(change.patch)).toEqual(['__proto__']);
    expect(rejection(() => parseConfigChange({ kind: 'modify', object: { type: 'workspace', id: 'a' }, patch: {} }))).toMatchObject({
      field: 'patch',
      message: 'patch: must change at least one property',
    });
    expect(rejection(() => parsePublishedEvent({ ...metadata, kind: 'modify', object: { type: 'workspace', id: 'a' }, patch: {} })).field).toBe('patch');
  });

  it.each(['\uFFFF', 'a\uFFFEb', 'topp:x\uFFFF'])('refuses a name holding a character XML cannot (GeoServer keeps its catalog as XML): %j', (id) => {
    expect(rejection(() => parseConfigChange({ kind: 'add', object: { type: 'style', id }, properties: { format: 'sld', body: '<a/>' } }))).toMatchObject({
      field: 'object.id',
      message: expect.stringContaining('a character XML cannot hold'),
    });
  });

  it.each(['WPS', 'topp:CSW', 'FOO'])('refuses settings of service %s, which no GeoServer REST API has', (id) => {
    // The apply could only park it on every GeoServer node (owsservices.yaml: WMS, WFS, WCS, WMTS).
    expect(rejection(() => parseConfigChange({ kind: 'modify', object: { type: 'service', id }, patch: { enabled: false } }))).toMatchObject({
      field: 'object.id',
      message: expect.stringContaining('must be one of WMS, WFS, WCS, WMTS'),
    });
  });

  it('says why a dot segment is refused', () => {
    expect(rejection(() => parseConfigChange({ kind: 'remove', object: { type: 'style', id: '..:point' }, recurse: true })).message).toMatch(
      /object\.id: must be "name" or "workspace:name" \(names without ":", "\/", "\\", white space or a character XML cannot hold, and not "\." or "\.\."\)/,
    );
  });

  it('lets singletons omit their id', () => {
    expect(parseConfigChange({ kind: 'modify', object: { type: 'global' }, patch: { verbose: true } }).object).toEqual({
      type: 'global',
      id: 'global',
    });
    expect(parseConfigChange({ kind: 'modify', object: { type: 'logging' }, patch: { level: 'DEBUG' } }).object.id).toBe(
      'logging',
    );
  });

  it('requires an id for every other type', () => {
    expect(rejection(() => parseConfigChange({ kind: 'remove', object: { type: 'layer' } }))).toMatchObject({
      field: 'object.id',
      message: 'object.id: is required',
    });
  });

  it('splits and builds qualified ids', () => {
    expect(splitObjectId('topp:states')).toEqual({ workspace: 'topp', name: 'states' });
    expect(splitObjectId('polygon')).toEqual({ name: 'polygon' });
    expect(objectId('topp', 'states')).toBe('topp:states');
    expect(objectId(undefined, 'polygon')).toBe('polygon');
    expect(objectStorageKey({ type: 'style', id: 'topp:roads' })).toBe('style/topp:roads');
  });

  it('covers every GeoServer catalog and configuration type', () => {
    expect([...OBJECT_TYPES].sort()).toEqual(
      [
        'coverage',
        'coverageStore',
        'dataStore',
        'featureType',
        'global',
        'layer',
        'layerGroup',
        'logging',
        'namespace',
        'service',
        'style',
        'wmsLayer',
        'wmsStore',
        'wmtsLayer',
        'wmtsStore',
        'workspace',
        'workspaceSettings',
      ].sort(),
    );
  });
});

describe('publish request body', () => {
  it('accepts add, modify and remove of catalog objects', () => {
    expect(parseConfigChange({ kind: 'add', object: { type: 'workspace', id: 'topp' }, properties: { isolated: false } })).toEqual({
      kind: 'add',
      object: { type: 'workspace', id: 'topp' },
      properties: { isolated: false },
    });
    expect(
      parseConfigChange({ kind: 'modify', object: { type: 'layer', id: 'topp:states' }, patch: { enabled: null } }),
    ).toEqual({ kind: 'modify', object: { type: 'layer', id: 'topp:states' }, patch: { enabled: null } });
    expect(parseConfigChange({ kind: 'remove', object: { type: 'dataStore', id: 'topp:shp' } })).toEqual({
      kind: 'remove',
      object: { type: 'dataStore', id: 'topp:shp' },
    });
  });

  it('carries nested JSON properties unchanged', () => {
    const properties = {
      connectionParameters: { url: 'file:data/states.shp', charset: 'UTF-8', 'create spatial index': true },
      keywords: ['a', 'b'],
      bbox: [-124.7, 24.9, -66.9, 49.4],
      description: null,
    };
    const change = parseConfigChange({ kind: 'add', object: { type: 'dataStore', id: 'topp:states' }, properties });
    expect(change).toMatchObject({ properties });
  });

  const rejected: [string, unknown, string, string][] = [
    ['a body that is not an object', 'add', 'body', 'expected object, got string'],
    ['a missing kind', { object: { type: 'workspace', id: 'a' } }, 'kind', 'is required'],
    ['an unknown kind', { kind: 'rename', object: { type: 'workspace', id: 'a' } }, 'kind', 'must be one of: add, modify, remove'],
    ['a missing object', { kind: 'remove' }, 'object', 'is required'],
    ['an object that is not an object', { kind: 'remove', object: 'topp' }, 'object', 'expected object, got string'],
    ['a missing object type', { kind: 'remove', object: { id: 'a' } }, 'object.type', 'is required'],
    ['an unknown object type', { kind: 'remove', object: { type: 'table', id: 'a' } }, 'object.type', 'must be one of: workspace'],
    ['an id that is not a string', { kind: 'remove', object: { type: 'workspace', id: 3 } }, 'object.id', 'expected string, got number'],
    ['missing properties on add', { kind: 'add', object: { type: 'workspace', id: 'a' } }, 'properties', 'is required'],
    ['properties that are an array', { kind: 'add', object: { type: 'workspace', id: 'a' }, properties: [] }, 'properties', 'expected object, got array'],
    ['a missing patch', { kind: 'modify', object: { type: 'workspace', id: 'a' } }, 'patch', 'is required'],
    ['an empty patch', { kind: 'modify', object: { type: 'workspace', id: 'a' }, patch: {} }, 'patch', 'must change at least one property'],
    ['an unknown top-level field', { kind: 'remove', object: { type: 'workspace', id: 'a' }, force: true }, 'force', 'is not a known field'],
    ['an unknown object field', { kind: 'remove', object: { type: 'workspace', id: 'a', name: 'a' } }, 'object.name', 'is not a known field'],
    ['a patch on remove', { kind: 'remove', object: { type: 'workspace', id: 'a' }, patch: { a: 1 } }, 'patch', 'is not a known field'],
    ['a non-JSON value', { kind: 'add', object: { type: 'workspace', id: 'a' }, properties: { when: new Date(0) } }, 'properties.when', 'expected a JSON value'],
    ['a non-JSON value deep inside', { kind: 'add', object: { type: 'workspace', id: 'a' }, properties: { a: [1, { b: [undefined] }] } }, 'properties.a[1].b[0]', 'expected a JSON value'],
    [
      'a number JSON.parse read as Infinity',
      JSON.parse('{"kind":"add","object":{"type":"featureType","id":"topp:roads"},"properties":{"name":"roads","store":{"name":"topp:s"},"nativeBoundingBox":{"minx":0,"maxx":1e999}}}'),
      'properties.nativeBoundingBox.maxx',
      'is a number out of range',
    ],
    ['an out-of-range number in a patch', JSON.parse('{"kind":"modify","object":{"type":"layer","id":"topp:roads"},"patch":{"keywords":[1,-1e400]}}'), 'patch.keywords[1]', 'is a number out of range'],
    ['an add of global settings', { kind: 'add', object: { type: 'global' }, properties: {} }, 'kind', 'must be "modify" for global configuration'],
    ['a remove of a service', { kind: 'remove', object: { type: 'service', id: 'WMS' } }, 'kind', 'must be "modify" for service configuration'],
    ['a style without its document', { kind: 'add', object: { type: 'style', id: 'roads' }, properties: { format: 'sld' } }, 'properties.body', 'a style must carry its document'],
    ['a style with an empty document', { kind: 'add', object: { type: 'style', id: 'roads' }, properties: { format: 'sld', body: '' } }, 'properties.body', 'a style must carry its document'],
    ['a patch removing a style document', { kind: 'modify', object: { type: 'style', id: 'roads' }, patch: { body: null } }, 'patch.body', 'a style document can be replaced but not removed'],
  ];

  it.each(rejected)('rejects %s, naming the field', (_case, body, field, message) => {
    const error = rejection(() => parseConfigChange(body));
    expect(error.field).toBe(field);
    expect(error.message).toContain(`${field}: ${message}`);
    expect(error.status).toBe(400);
  });

  it('lists every issue, not only the first', () => {
    try {
      parseConfigChange({ kind: 'remove', object: { type: 'workspace', id: 'a b' }, extra: 1, other: 2 });
      throw new Error('expected a rejection');
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidConfigEventError);
      expect((error as InvalidConfigEventError).issues.map((issue) => issue.field).sort()).toEqual(['extra', 'object.id', 'other']);
    }
  });

  it('accepts a style with its SLD and a patch replacing it', () => {
    const sld = '<StyledLayerDescriptor version="1.0.0"/>';
    expect(parseConfigChange({ kind: 'add', object: { type: 'style', id: 'roads' }, properties: { format: 'sld', body: sld } })).toMatchObject({
      properties: { format: 'sld', body: sld },
    });
    expect(parseConfigChange({ kind: 'modify', object: { type: 'style', id: 'roads' }, patch: { body: sld } })).toMatchObject({
      patch: { body: sld },
    });
  });
});

describe('field paths', () => {
  it('joins keys with dots and indexes with brackets', () => {
    expect(fieldPath(['object', 'type'])).toBe('object.type');
    expect(fieldPath(['properties', 'keywords', 0, 'value'])).toBe('properties.keywords[0].value');
    expect(fieldPath([])).toBe('body');
  });
});

describe('published events', () => {
  it('parses an inline event', () => {
    const event = { ...metadata, kind: 'add', object: { type: 'workspace', id: 'topp' }, properties: {} };
    expect(parsePublishedEvent(event)).toEqual(event);
    expect(parseEventMessage(JSON.stringify(event))).toEqual(event);
  });

  it('parses an offloaded event, whose body is elsewhere', () => {
    const event = { ...metadata, kind: 'add', object: { type: 'style', id: 'big' }, bodyRef: 's3://bucket/prod/7.json' };
    expect(parsePublishedEvent(event)).toEqual(event);
  });

  it.each([
    ['sequence', { ...metadata, sequence: 0 }],
    ['sequence', { ...metadata, sequence: 1.5 }],
    ['cluster', { ...metadata, cluster: 'no spaces allowed' }],
    ['origin', { ...metadata, origin: undefined }],
    ['publishedAt', { ...metadata, publishedAt: 'yesterday' }],
  ])('rejects bad metadata, naming %s', (field, bad) => {
    const event = { ...bad, kind: 'remove', object: { type: 'workspace', id: 'topp' } };
    expect(rejection(() => parsePublishedEvent(event)).field).toBe(field);
  });

  it('applies the same rules to stored events as to requests', () => {
    const event = { ...metadata, kind: 'add', object: { type: 'logging' }, properties: {} };
    expect(rejection(() => parsePublishedEvent(event)).field).toBe('kind');
  });

  it('rejects an offloaded event that also carries its body inline', () => {
    const event = { ...metadata, kind: 'add', object: { type: 'workspace', id: 'a' }, bodyRef: 'x', properties: {} };
    expect(rejection(() => parsePublishedEvent(event)).field).toBe('properties');
  });

  it('rejects a message that is not JSON', () => {
    expect(rejection(() => parseEventMessage('{"sequence": 1,'))).toMatchObject({ field: 'body', message: 'body: is not valid JSON' });
  });

  it('derives the FIFO group from the cluster and the deduplication id from the sequence and the event itself', () => {
    expect(messageGroupId('prod')).toBe('prod');
    const event = parsePublishedEvent({ ...metadata, kind: 'modify', object: { type: 'workspace', id: 'topp' }, patch: { isolated: true } });
    const id = deduplicationId(event);
    expect(id).toMatch(/^prod-7-[A-Za-z0-9_-]{22}$/);
    // A republish of the event (read back from the log) is the same message, within SNS's 128 characters.
    expect(deduplicationId(parsePublishedEvent(JSON.parse(JSON.stringify(event)) as unknown))).toBe(id);
    expect(deduplicationId(parsePublishedEvent({ ...metadata, sequence: 9_007_199_254_740_991, cluster: 'a'.repeat(20), kind: 'remove', object: { type: 'workspace', id: 'x' } })).length).toBeLessThanOrEqual(128);
    // A message made by anyone else allowed on the topic, numbered as the log's next event, cannot
    // take that event's id: sent first, it would have the topic and every queue drop the real one
    // for five minutes as its duplicate.
    expect(deduplicationId(parsePublishedEvent({ ...metadata, kind: 'remove', object: { type: 'workspace', id: 'topp' } }))).not.toBe(id);
    expect(deduplicationId(parsePublishedEvent({ ...metadata, publishedAt: '2025-01-01T00:00:00.001Z', kind: 'modify', object: { type: 'workspace', id: 'topp' }, patch: { isolated: true } }))).not.toBe(id);
  });

  it('offloads a change only when the event would not fit in a message', () => {
    const style = (bytes: number) => ({
      kind: 'add' as const,
      object: { type: 'style' as const, id: 'big' },
      properties: { body: 'x'.repeat(bytes) },
    });
    const meta = { cluster: 'prod', origin: 'master-1', publishedAt: metadata.publishedAt };
    expect(mustOffload(style(1024), meta)).toBe(false);
    expect(mustOffload(style(MAX_INLINE_EVENT_BYTES - 1024), meta)).toBe(false);
    expect(mustOffload(style(MAX_INLINE_EVENT_BYTES), meta)).toBe(true);
    expect(mustOffload(style(300 * 1024), meta)).toBe(true);
    // Multi-byte characters count by their UTF-8 size.
    expect(mustOffload(style(MAX_INLINE_EVENT_BYTES / 2), meta)).toBe(false);
    expect(mustOffload({ ...style(0), properties: { body: 'é'.repeat(MAX_INLINE_EVENT_BYTES / 2) } }, meta)).toBe(true);
  });
});

describe('consecutiveRuns', () => {
  it('splits ascending sequences into runs of consecutive ones, in order', () => {
    expect(consecutiveRuns([1, 2, 3, 5, 6, 9], (n) => n)).toEqual([[1, 2, 3], [5, 6], [9]]);
    expect(consecutiveRuns([{ sequence: 4 }, { sequence: 5 }], (event) => event.sequence)).toEqual([[{ sequence: 4 }, { sequence: 5 }]]);
    expect(consecutiveRuns([], (n: number) => n)).toEqual([]);
  });
});

describe('a publish body of many nested lists', () => {
  it('still names the path of a value JSON cannot carry, found last', () => {
    let nested: unknown = 0;
    for (let level = 0; level < 60; level += 1) nested = [nested];
    const body = JSON.parse(
      `{"kind":"add","object":{"type":"workspace","id":"deep"},"properties":{"name":"deep","first":{"x":[1e999]},"lists":${JSON.stringify(Array(100).fill(nested))}}}`,
    );
    expect(rejection(() => parseConfigChange(body))).toMatchObject({ field: 'properties.first.x[0]', status: 400 });
  });
});
