/**
 * The operator console, declared once: one function that serves one static page at GET /console.
 * It reads no environment and holds no grant: the page itself calls the API with the token the
 * operator enters, so the route is `open` (no authorizer even with `requireAuthForReads`).
 */
import type { ServiceManifest } from '../shared/manifest';

export const CONSOLE_MANIFEST = {
  ServeConsole: {
    entry: 'console/handlers/serve-console.ts',
    environment: [],
    grants: [],
    routes: [{ method: 'GET', path: '/console', access: 'open' }],
  },
} as const satisfies ServiceManifest<never, never>;
