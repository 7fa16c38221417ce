/**
 * An independent check of AWS Signature Version 4, written from the published algorithm (the
 * way a service verifies a request), for testing what the project's signed requests would look
 * like to AWS. It recomputes the canonical request from what arrived on the wire, so a signer
 * that signs one thing and sends another fails here.
 */
import { createHash, createHmac } from 'node:crypto';

export interface ReceivedRequest {
  readonly method: string;
  /** Path and query exactly as they arrived (Node's `request.url`). */
  readonly rawUrl: string;
  /** Lower-case names, as Node gives them. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
}

export interface VerifyOptions {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly region: string;
  readonly service: string;
  /** When given, `x-amz-date` must be within 15 minutes of it, as AWS requires. */
  readonly now?: Date;
}

export type Verdict = { readonly ok: true } | { readonly ok: false; readonly reason: string };

const AUTHORIZATION = /^AWS4-HMAC-SHA256 Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$/;
const AMZ_DATE = /^(\d{8})T\d{6}Z$/;

/** RFC 3986 percent-encoding of everything but the unreserved characters, upper-case hex. */
export function uriEncode(value: string): string {
  return Array.from(new TextEncoder().encode(value), (byte) => {
    const char = String.fromCharCode(byte);
    return /[A-Za-z0-9\-._~]/.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }).join('');
}

const sha256Hex = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();

function headerValue(headers: ReceivedRequest['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/**
 * S3 encodes each path segment once; every other service encodes the already-encoded segment
 * again. Both start from the decoded path, as the service sees it.
 */
function canonicalUri(rawPath: string, service: string): string {
  const path = rawPath === '' ? '/' : rawPath;
  return path
    .split('/')
    .map((segment) => {
      const once = uriEncode(decodeURIComponent(segment));
      return service === 's3' ? once : uriEncode(once);
    })
    .join('/');
}

function canonicalQuery(rawQuery: string): string {
  if (rawQuery === '') return '';
  return rawQuery
    .split('&')
    .map((pair) => {
      const [name = '', value = ''] = pair.split(/=(.*)/s);
      return [uriEncode(decodeURIComponent(name)), uriEncode(decodeURIComponent(value))] as const;
    })
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

export function verifySigV4(request: ReceivedRequest, options: VerifyOptions): Verdict {
  const fail = (reason: string): Verdict => ({ ok: false, reason });
  const authorization = headerValue(request.headers, 'authorization');
  const parts = authorization === undefined ? null : AUTHORIZATION.exec(authorization);
  if (!parts) return fail(`malformed or missing Authorization header: ${authorization}`);
  const [, credential = '', signedHeaderList = '', signature = ''] = parts;

  const [accessKeyId, scopeDate, region, service, terminator, ...rest] = credential.split('/');
  if (rest.length > 0 || terminator !== 'aws4_request') return fail(`malformed credential scope ${credential}`);
  if (accessKeyId !== options.accessKeyId) return fail(`unknown access key ${accessKeyId}`);
  if (region !== options.region) return fail(`signed for region ${region}, not ${options.region}`);
  if (service !== options.service) return fail(`signed for service ${service}, not ${options.service}`);

  const amzDate = headerValue(request.headers, 'x-amz-date') ?? '';
  const dateParts = AMZ_DATE.exec(amzDate);
  if (!dateParts) return fail(`missing or malformed x-amz-date: ${amzDate}`);
  if (dateParts[1] !== scopeDate) return fail(`x-amz-date ${amzDate} is not on the scope date ${scopeDate}`);
  if (options.now) {
    const signedAt = Date.parse(`${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`);
    if (Math.abs(signedAt - options.now.getTime()) > 15 * 60_000) return fail(`x-amz-date ${amzDate} is too far from now`);
  }

  const signedHeaders = signedHeaderList.split(';');
  if ([...signedHeaders].sort().join(';') !== signedHeaderList) return fail(`SignedHeaders not sorted: ${signedHeaderList}`);
  for (const required of ['host', 'x-amz-date', ...(options.service === 's3' ? ['x-amz-content-sha256'] : [])]) {
    if (!signedHeaders.includes(required)) return fail(`${required} is not signed`);
  }
  const canonicalHeaders = signedHeaders.map((name) => {
    const value = headerValue(request.headers, name);
    if (value === undefined) return undefined;
    return `${name}:${value.trim().replace(/\s+/g, ' ')}\n`;
  });
  const missing = signedHeaders.filter((_, index) => canonicalHeaders[index] === undefined);
  if (missing.length > 0) return fail(`signed headers not sent: ${missing.join(', ')}`);

  let payloadHash = sha256Hex(request.body);
  if (options.service === 's3') {
    const declared = headerValue(request.headers, 'x-amz-content-sha256');
    if (declared === undefined) return fail('x-amz-content-sha256 is missing');
    if (declared !== 'UNSIGNED-PAYLOAD' && declared !== payloadHash) return fail('x-amz-content-sha256 does not match the body sent');
    payloadHash = declared;
  }

  const queryStart = request.rawUrl.indexOf('?');
  const rawPath = queryStart < 0 ? request.rawUrl : request.rawUrl.slice(0, queryStart);
  const rawQuery = queryStart < 0 ? '' : request.rawUrl.slice(queryStart + 1);
  const canonicalRequest = [
    request.method,
    canonicalUri(rawPath, options.service),
    canonicalQuery(rawQuery),
    canonicalHeaders.join(''),
    signedHeaderList,
    payloadHash,
  ].join('\n');
  const scope = `${scopeDate}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${options.secretAccessKey}`, scopeDate ?? ''), region ?? ''), service ?? ''), 'aws4_request');
  const expected = createHmac('sha256', key).update(stringToSign).digest('hex');
  return expected === signature ? { ok: true } : fail(`signature mismatch; canonical request was:\n${canonicalRequest}`);
}
