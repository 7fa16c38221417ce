/**
 * SigV4-signed HTTP requests for the two AWS calls whose SDK clients do not fit a Lambda
 * bundle: S3 object get/put/delete and SNS Publish.
 *
 * Why not `@aws-sdk/client-s3` and `client-sns`: every handler bundle must stay under 400 KB,
 * and the DynamoDB client alone is about 330 KB of it. The S3 client measures 430 KB on its own
 * (checksums, XML, multi-region signing), the SNS client adds 22 KB, and a lazy `import()` does
 * not help because the functions are single CommonJS files (esbuild inlines dynamic imports).
 * The calls needed here are a handful of REST requests, so this module signs them with the
 * SDK's own signer (`@smithy/signature-v4`, already in every bundle through the DynamoDB
 * client) and the credentials and region the DynamoDB client resolved, and sends them with
 * Node's `fetch`. Retries follow the SDK's standard mode: 3 attempts, jittered exponential
 * backoff, on throttling, 5xx and network errors.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentityProvider, Checksum, Provider, SourceData } from '@smithy/types';

export interface AwsRequest {
  readonly method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  /** Absolute URL, path already percent-encoded as it must be signed and sent. */
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}

export interface AwsResponse {
  readonly status: number;
  readonly body: string;
}

/** A non-2xx answer from an AWS service, with the error code its body names. */
export class AwsServiceError extends Error {
  constructor(
    readonly service: string,
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(`${service} ${status} ${code}: ${message}`);
    this.name = 'AwsServiceError';
  }
}

export interface SignedFetchOptions {
  /** Signing name: `s3`, `sns`. */
  readonly service: string;
  readonly region: string | Provider<string>;
  readonly credentials: AwsCredentialIdentityProvider;
  /** @default 3, as the SDK's standard retry mode */
  readonly maxAttempts?: number;
  /** Per attempt. @default 15000 */
  readonly timeoutMs?: number;
}

const THROTTLING_CODES = new Set(['Throttling', 'ThrottlingException', 'ThrottledException', 'RequestThrottled', 'SlowDown', 'RequestLimitExceeded', 'TooManyRequestsException']);

export class SignedFetch {
  private readonly signer: SignatureV4;

  constructor(private readonly options: SignedFetchOptions) {
    this.signer = new SignatureV4({
      service: options.service,
      region: options.region,
      credentials: options.credentials,
      sha256: NodeSha256,
      // S3 signs the path exactly as sent; other services want it escaped again.
      uriEscapePath: options.service !== 's3',
      applyChecksum: true,
    });
  }

  /** Resolves with any 2xx answer, and with 404 (callers decide what "missing" means). */
  async send(request: AwsRequest): Promise<AwsResponse> {
    const maxAttempts = this.options.maxAttempts ?? 3;
    for (let attempt = 1; ; attempt += 1) {
      let response: AwsResponse;
      try {
        response = await this.attempt(request);
      } catch (error) {
        // Network failures and timeouts: the request may not have arrived; all calls made
        // through here are idempotent (PUT/DELETE of a key, Publish with a deduplication id).
        if (attempt >= maxAttempts) throw error;
        await backoff(attempt);
        continue;
      }
      if ((response.status >= 200 && response.status < 300) || response.status === 404) return response;
      const error = serviceError(this.options.service, response);
      const retryable = response.status >= 500 || response.status === 429 || THROTTLING_CODES.has(error.code);
      if (!retryable || attempt >= maxAttempts) throw error;
      await backoff(attempt);
    }
  }

  private async attempt(request: AwsRequest): Promise<AwsResponse> {
    const url = new URL(request.url);
    const query: Record<string, string> = {};
    for (const [name, value] of url.searchParams) query[name] = value;
    const signed = await this.signer.sign({
      method: request.method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port === '' ? undefined : Number(url.port),
      path: url.pathname,
      query,
      headers: { ...request.headers, host: url.host },
      body: request.body,
    });
    // fetch sets Host itself, from the same URL.
    const headers = Object.fromEntries(Object.entries(signed.headers).filter(([name]) => name.toLowerCase() !== 'host'));
    const response = await fetch(request.url, {
      method: request.method,
      headers,
      body: request.body,
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 15_000),
    });
    return { status: response.status, body: await response.text() };
  }
}

/** The error code and message of an AWS XML or JSON error body. */
function serviceError(service: string, response: AwsResponse): AwsServiceError {
  const xmlCode = /<Code>([^<]*)<\/Code>/.exec(response.body)?.[1];
  const xmlMessage = /<Message>([^<]*)<\/Message>/.exec(response.body)?.[1];
  let code = xmlCode;
  let message = xmlMessage;
  if (code === undefined) {
    try {
      const parsed = JSON.parse(response.body) as { __type?: string; code?: string; message?: string; Message?: string };
      code = (parsed.__type ?? parsed.code)?.split('#').pop();
      message = parsed.message ?? parsed.Message;
    } catch {
      // not JSON either
    }
  }
  return new AwsServiceError(service, response.status, code ?? `Http${response.status}`, message ?? response.body.slice(0, 200));
}

function backoff(attempt: number): Promise<void> {
  const ceiling = Math.min(20_000, 100 * 2 ** attempt);
  return new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
}

/** SHA-256 and HMAC-SHA-256 from node:crypto, in the shape the SigV4 signer expects. */
class NodeSha256 implements Checksum {
  private hash: Hash | Hmac;

  constructor(private readonly secret?: SourceData) {
    this.hash = this.create();
  }

  update(data: Uint8Array): void {
    this.hash.update(toBytes(data));
  }

  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }

  reset(): void {
    this.hash = this.create();
  }

  private create(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', toBytes(this.secret));
  }
}

function toBytes(data: SourceData): string | Uint8Array {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** An endpoint override from the environment (`AWS_ENDPOINT_URL_<SERVICE>`, then `AWS_ENDPOINT_URL`). */
export function endpointOverride(serviceEnvName: string): string | undefined {
  const value = process.env[`AWS_ENDPOINT_URL_${serviceEnvName}`] || process.env.AWS_ENDPOINT_URL;
  return value ? value.replace(/\/+$/, '') : undefined;
}

/** The DNS suffix of a region's partition. */
export function dnsSuffix(region: string): string {
  return region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
}

/** RFC 3986 encoding of one path segment (S3 keys keep their `/`). */
export function encodePathSegment(segment: string): string {
  return encodeURIComponent(segment).replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
}
