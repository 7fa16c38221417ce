/**
 * The operator console, declared once: one function that serves one static page at GET /console.
 * It reads no environment and holds no grant: the page itself calls the API with the token the
 * operator enters, so the route is `open` (no authorizer even with `requireAuthForReads`).
 */
import { textDocument } from '../shared/api';
import type { ServiceManifest } from '../shared/manifest';

export const CONSOLE_MANIFEST = {
  ServeConsole: {
    entry: 'console/handlers/serve-console.ts',
    environment: [],
    grants: [],
    routes: [
      {
        method: 'GET',
        path: '/console',
        access: 'open',
        api: {
          operationId: 'getConsole',
          summary: 'The operator console (an HTML page that reads this API; actions need a node token entered in the page)',
          tag: 'Operations',
          responses: { 200: { description: 'The console page', content: { 'text/html': { schema: textDocument('An HTML page') } } } },
        },
      },
    ],
  },
} as const satisfies ServiceManifest<never, never>;
