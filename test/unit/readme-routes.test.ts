/**
 * The README's route tables ("The status API", "Configuration sync") against the service
 * manifests the API is built from: a route the tables name must exist with that method, every
 * node route of the two services must be in a table, and the "who" column must not call a
 * route open that takes a token, or the reverse.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CONFIG_SYNC_MANIFEST } from '../../lambdas/config-sync/manifest';
import { routesOf } from '../../lambdas/shared/manifest';
import { STATUS_MANIFEST } from '../../lambdas/status/manifest';

const readme = readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
const shape = (route: string) => route.replace(/\{[^}]+\}/g, '{}');

/** Each table row's first cell's routes (`POST /nodes/{node}/pause`, `/resume` is two), with its "who" cell. */
const documented = readme
  .split('\n')
  .filter((line) => line.startsWith('| `'))
  .flatMap((line) => {
    const [, first = '', who = ''] = line.split('|').map((cell) => cell.trim());
    const routes: string[] = [];
    let last: { method: string; path: string } | undefined;
    for (const [, text] of first.matchAll(/`([^`]+)`/g)) {
      const full = /^(GET|PUT|POST|DELETE|PATCH|HEAD) (\/\S*)$/.exec(text!);
      if (full) {
        last = { method: full[1]!, path: full[2]! };
        routes.push(`${last.method} ${last.path}`);
      } else if (last && /^\/[^/\s]+$/.test(text!)) {
        routes.push(`${last.method} ${last.path.replace(/\/[^/]+$/, text!)}`);
      }
    }
    return routes.map((route) => ({ route: shape(route), who }));
  });

const declared = [...routesOf(STATUS_MANIFEST), ...routesOf(CONFIG_SYNC_MANIFEST)].map((route) => ({
  route: shape(`${route.method} ${route.path}`),
  access: route.access,
}));

describe("the README's route tables", () => {
  it('are found', () => {
    expect(documented.length).toBeGreaterThan(15);
  });

  it('name only routes the services declare', () => {
    const known = new Set(declared.map(({ route }) => route));
    expect(documented.map(({ route }) => route).filter((route) => !known.has(route))).toEqual([]);
  });

  it("name every route of the status and configuration sync services", () => {
    const named = new Set(documented.map(({ route }) => route));
    expect(declared.map(({ route }) => route).filter((route) => !named.has(route))).toEqual([]);
  });

  it('say "anyone" exactly for the routes without a token', () => {
    const access = new Map(declared.map(({ route, access }) => [route, access]));
    const wrong = documented.filter(({ route, who }) => (who === 'anyone') !== (access.get(route) === 'read'));
    expect(wrong).toEqual([]);
  });
});
