import { catalogQuerySchema, driftQuerySchema } from '../../../lambdas/config-sync/request-schemas';
import { parseQuery } from '../../../lambdas/shared/query';
import { buildOpenApiDocument } from '../../../api/openapi';

const refused = (run: () => unknown, field: string, message: RegExp) =>
  expect(run).toThrow(expect.objectContaining({ status: 400, field, message: expect.stringMatching(message) }));

describe('query strings parsed with the schemas the document publishes', () => {
  it('the catalog: type, limit, next and includeDeleted, with their defaults', () => {
    expect(parseQuery(catalogQuerySchema(), undefined)).toEqual({ limit: 100, includeDeleted: false });
    expect(parseQuery(catalogQuerySchema(), { type: 'layer', limit: '7', next: 'layer/topp:roads', includeDeleted: 'true' })).toEqual({
      type: 'layer',
      limit: 7,
      next: 'layer/topp:roads',
      includeDeleted: true,
    });
    expect(parseQuery(catalogQuerySchema(), { includeDeleted: 'false' }).includeDeleted).toBe(false);
  });

  it('refuses each bad value with a 400 naming the parameter', () => {
    refused(() => parseQuery(catalogQuerySchema(), { type: 'featuretype' }), 'type', /type/);
    for (const limit of ['0', '1001', '-1', '1.5', '1e3', ' 5', '', 'ten', '12345678901234567']) {
      refused(() => parseQuery(catalogQuerySchema(), { limit }), 'limit', /limit: must be a whole number from 1 to 1000/);
    }
    refused(() => parseQuery(catalogQuerySchema(), { next: 'no-slash' }), 'next', /not the next value of a previous page/);
    refused(() => parseQuery(catalogQuerySchema(), { next: `layer/${'x'.repeat(1100)}` }), 'next', /not the next value/);
    // Bytes count: an object key is a DynamoDB sort key, at most 1,024 bytes.
    refused(() => parseQuery(catalogQuerySchema(), { next: `workspace/${'é'.repeat(512)}` }), 'next', /not the next value/);
    expect(parseQuery(catalogQuerySchema(), { next: `workspace/${'é'.repeat(256)}` }).next).toBe(`workspace/${'é'.repeat(256)}`);
    for (const includeDeleted of ['yes', '1', 'TRUE', '']) {
      refused(() => parseQuery(catalogQuerySchema(), { includeDeleted }), 'includeDeleted', /must be true or false/);
    }
    refused(() => parseQuery(driftQuerySchema(), { after: 'abc' }), 'after', /whole number/);
  });

  it("refuses a catalog `next` that no page of the listing hands out, instead of starting the listing over", () => {
    // From the listing of another type.
    refused(
      () => parseQuery(catalogQuerySchema(), { type: 'workspace', next: 'style/zz' }),
      'next',
      /^next: is not the next value of a previous page of this listing: with type=workspace it is the key `workspace\/<id>` of a workspace, not of a style$/,
    );
    refused(() => parseQuery(catalogQuerySchema(), { type: 'layer', next: '/topp:roads' }), 'next', /with type=layer it is the key `layer\/<id>`/);
    // No object's key: an unknown type, or an id no object of the type can have.
    refused(() => parseQuery(catalogQuerySchema(), { next: 'zz/abc' }), 'next', /"zz" is no object type \(workspace, /);
    refused(() => parseQuery(catalogQuerySchema(), { type: 'dataStore', next: 'dataStore/pg' }), 'next', /key `dataStore\/<id>` of a dataStore, whose id must be "workspace:name"/);
    refused(() => parseQuery(catalogQuerySchema(), { next: 'workspace/' }), 'next', /of a workspace, whose id must be a name/);
    refused(() => parseQuery(catalogQuerySchema(), { next: 'layer/topp:roads/x' }), 'next', /of a layer, whose id/);
    refused(() => parseQuery(catalogQuerySchema(), { next: 'global/other' }), 'next', /of a global, whose id must be "global"/);
    // The keys the listing hands out: of its type, or of any type when it lists every type.
    expect(parseQuery(catalogQuerySchema(), { type: 'style', next: 'style/zz' }).next).toBe('style/zz');
    expect(parseQuery(catalogQuerySchema(), { next: 'style/topp:zz' }).next).toBe('style/topp:zz');
    expect(parseQuery(catalogQuerySchema(), { type: 'global', next: 'global/global' }).next).toBe('global/global');
    expect(parseQuery(catalogQuerySchema(), { type: 'service', next: 'service/topp:WMS' }).next).toBe('service/topp:WMS');
  });

  it('refuses a parameter the route does not take, listing those it does', () => {
    refused(() => parseQuery(driftQuerySchema(), { limit: '5', cursor: 'x' }), 'cursor', /not a parameter of this route \(limit, after\)/);
    // As API Gateway hands over a query string: an own key, not the prototype.
    refused(() => parseQuery(catalogQuerySchema(), JSON.parse('{"__proto__":"1"}') as Record<string, string>), '__proto__', /not a parameter/);
    expect(parseQuery(driftQuerySchema(), { limit: '5', after: '200' })).toEqual({ limit: 5, after: 200 });
  });

  it('the document shows what each value stands for, with its range and default', () => {
    const document = buildOpenApiDocument({ requireAuthForReads: true }) as {
      paths: Record<string, Record<string, { parameters?: { name: string; in: string; schema: Record<string, unknown>; description?: string }[] }>>;
    };
    const parameter = (path: string, name: string) => document.paths[path]?.get?.parameters?.find((p) => p.in === 'query' && p.name === name);
    expect(parameter('/nodes/{node}/catalog', 'limit')).toMatchObject({ schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 }, description: 'Objects per page' });
    expect(parameter('/nodes/{node}/catalog', 'includeDeleted')?.schema).toEqual({ type: 'boolean', default: false });
    expect(parameter('/config/events', 'since')?.schema).toMatchObject({ type: 'integer', minimum: 0 });
    expect(parameter('/nodes/{node}/drift', 'after')?.schema).toMatchObject({ type: 'integer', minimum: 0, default: 0 });
    expect(parameter('/executions', 'limit')?.schema).toMatchObject({ type: 'integer', minimum: 1, maximum: 1000 });
  });
});
