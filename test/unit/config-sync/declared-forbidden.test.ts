/**
 * A route whose handler refuses a slave acting on another node (assertCanOperate, 403) must
 * declare that 403 in the API the OpenAPI document and the CLI's types are built from: an
 * operator reading GET /openapi.json learns from it who may call the route.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CONFIG_SYNC_MANIFEST } from '../../../lambdas/config-sync/manifest';

describe('routes whose handler refuses a slave acting on another node', () => {
  const routes = Object.values(CONFIG_SYNC_MANIFEST).flatMap((declaration) => {
    const source = readFileSync(path.join(__dirname, '..', '..', '..', 'lambdas', declaration.entry), 'utf8');
    if (!source.includes('assertCanOperate(')) return [];
    return ('routes' in declaration ? declaration.routes : []).map((route) => ({
      route: `${route.method} ${route.path}`,
      responses: route.api.responses as Readonly<Record<number, unknown>>,
    }));
  });

  it('are found', () => {
    expect(routes.length).toBeGreaterThan(5);
  });

  it.each(routes.map((entry) => [entry.route, entry] as const))('%s declares its 403', (_route, { responses }) => {
    expect(responses[403]).toBeDefined();
  });
});
