/**
 * docs/operations.md's section "The GeoServer REST gateway" held against the code: every error
 * code it names with a status is one the code answers with that status, and the times and sizes
 * it states are gateway/limits.ts's.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import {
  API_GATEWAY_TIMEOUT_MS,
  FUNCTION_TIMEOUT_MS,
  LEASE_TTL_MS,
  LEASE_WAIT_MS,
  MAX_READ_BACK_BYTES,
  MAX_REQUEST_BODY_BYTES,
  MAX_RESPONSE_BODY_BYTES,
  MAX_REPLICATED_WRITE_BYTES,
  RECOVERY_WANTED_MS,
  REQUEST_BUDGET_MS,
  STALE_INTENT_MS,
  SWEEP_LEASE_WAIT_MS,
  UPLOAD_SETTLE_MS,
} from '../../../../lambdas/config-sync/gateway/limits';

const ROOT = path.join(__dirname, '..', '..', '..', '..');
const MiB = 1024 * 1024;

function gatewaySection(): string {
  const doc = readFileSync(path.join(ROOT, 'docs', 'operations.md'), 'utf8');
  const start = doc.indexOf('\n## The GeoServer REST gateway');
  expect(start).toBeGreaterThanOrEqual(0);
  const end = doc.indexOf('\n## ', start + 1);
  return doc.slice(start, end === -1 ? undefined : end);
}

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) return sources(file);
    return file.endsWith('.ts') ? [file] : [];
  });
}

/** `<status> <code>` of every error the lambdas answer: AppError's own, ConflictError's (409) and ValidationError's (400 INVALID_REQUEST). */
function answeredCodes(): Set<string> {
  const pairs = new Set<string>(['400 INVALID_REQUEST']);
  for (const file of sources(path.join(ROOT, 'lambdas'))) {
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/(?:super|AppError)\(\s*(\d{3}),\s*'([A-Z][A-Z_]+)'/g)) pairs.add(`${match[1]} ${match[2]}`);
    for (const match of text.matchAll(/ConflictError\(\s*'([A-Z][A-Z_]+)'/g)) pairs.add(`409 ${match[1]}`);
    // Subclasses of ConflictError pass their code alone.
    if (/extends ConflictError/.test(text)) for (const match of text.matchAll(/super\(\s*'([A-Z][A-Z_]+)'/g)) pairs.add(`409 ${match[1]}`);
  }
  return pairs;
}

describe('docs/operations.md, "The GeoServer REST gateway"', () => {
  const section = gatewaySection();
  const flat = section.replace(/\s+/g, ' ');

  it('names only error codes the code answers, each with the status it answers', () => {
    const named = [...flat.matchAll(/\b(\d{3})\*{0,2} `([A-Z][A-Z_]+)`/g)].map((match) => `${match[1]} ${match[2]}`);
    expect(named.length).toBeGreaterThan(10);
    const answered = answeredCodes();
    expect([...new Set(named)].filter((pair) => !answered.has(pair))).toEqual([]);
  });

  it("states the gateway's limits and times as gateway/limits.ts sets them", () => {
    expect(MAX_REQUEST_BODY_BYTES).toBe(5 * MiB);
    expect(flat).toContain(`5 MiB (${MAX_REQUEST_BODY_BYTES.toLocaleString('en-US')} bytes)`);
    expect(MAX_REPLICATED_WRITE_BYTES).toBe(MiB);
    expect(flat).toContain(`1 MiB (${MAX_REPLICATED_WRITE_BYTES.toLocaleString('en-US')} bytes)`);
    expect(flat).toContain(`| the master's answer returned to the caller | ${MAX_RESPONSE_BODY_BYTES / MiB} MiB |`);
    expect(flat).toContain(`| ${MAX_READ_BACK_BYTES / MiB} MiB (4 times the request limit) |`);
    expect(flat).toContain(`| ${REQUEST_BUDGET_MS / 1000} s from the request's arrival | 504 \`GEOSERVER_TIMEOUT\``);
    expect(flat).toContain(`| waiting for the write lease | ${LEASE_WAIT_MS / 1000} s | 503 \`GATEWAY_BUSY\``);
    expect(flat).toContain(`lasts ${LEASE_TTL_MS / 1000} s unless given back, longer than the gateway function may run (${FUNCTION_TIMEOUT_MS / 1000} s)`);
    expect(flat).toContain(`API Gateway (HTTP API) ends a request after ${API_GATEWAY_TIMEOUT_MS / 1000} s and the function's timeout is ${FUNCTION_TIMEOUT_MS / 1000} s`);
    expect(flat).toContain(`until ${UPLOAD_SETTLE_MS / 60_000} minutes after the upload (\`UPLOAD_SETTLE_MS\`)`);
    expect(flat).toContain(`older than ${STALE_INTENT_MS / 60_000} minutes (\`STALE_INTENT_MS\``);
    expect(flat).toContain(`(\`recoveryWantedUntil\`, ${RECOVERY_WANTED_MS / 1000} s on, \`RECOVERY_WANTED_MS\`) and waits ${SWEEP_LEASE_WAIT_MS / 1000} s for it (\`SWEEP_LEASE_WAIT_MS\`)`);
    expect(flat).toContain(`at most the ${RECOVERY_WANTED_MS / 1000} s the mark stands if no run comes`);
  });

  it('gives no other time for API Gateway than its 30 s, anywhere in the docs or the README', () => {
    expect(API_GATEWAY_TIMEOUT_MS).toBe(30_000);
    for (const file of ['README.md', 'docs/operations.md', 'docs/architecture.md']) {
      const text = readFileSync(path.join(ROOT, file), 'utf8').replace(/\s+/g, ' ');
      expect({ file, stale: text.match(/API Gateway's 29 ?s|\b29 ?s (?:in|of) API Gateway|API Gateway (?:\(HTTP API\) )?ends[^.;]{0,30}\b29 ?s/g) ?? [] }).toEqual({ file, stale: [] });
    }
  });
});
