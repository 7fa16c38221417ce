/**
 * GET /console: the operator console, one static page embedded in this function's bundle
 * (esbuild's text loader), served with no server-side session: the page reads the public API
 * and sends the token the operator enters. Its Content-Security-Policy allows exactly the page's
 * own inline script (by hash) and same-origin requests.
 */
import { createHash } from 'node:crypto';
import page from '../console.html';
import { instrumented } from '../../shared/observability';
import type { HttpResult } from '../../shared/http';

const scripts = [...page.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((match) => `'sha256-${createHash('sha256').update(match[1] as string).digest('base64')}'`);
const styles = [...page.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((match) => `'sha256-${createHash('sha256').update(match[1] as string).digest('base64')}'`);
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  `script-src ${scripts.join(' ')}`,
  // Progress bar widths are set through the CSSOM (element.style), which CSP does not restrict.
  `style-src ${styles.join(' ')}`,
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const handler = instrumented(
  async (): Promise<HttpResult> => ({
    statusCode: 200,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-cache',
      'content-security-policy': CONTENT_SECURITY_POLICY,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      // frame-ancestors for a browser that predates it; no window this page opens or that opens it
      // keeps a handle on the tab that holds the token; no other origin embeds the page as a resource.
      'x-frame-options': 'DENY',
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-resource-policy': 'same-origin',
    },
    body: page,
  }),
);
