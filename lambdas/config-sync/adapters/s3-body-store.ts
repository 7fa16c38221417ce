/**
 * Large bodies in the S3 bucket `EVENT_BODY_BUCKET_NAME`:
 * - `events/<cluster>/<uuid>.json`: changes too large for an SNS message (`EventBodyStore`).
 *   The body is stored before the log gives the event its sequence (the log append is the
 *   single commit point), so the key is a random id, not the sequence. A body whose append
 *   then failed is never referenced; the bucket's lifecycle rules may expire such orphans.
 * - `objects/<node>/<type>/<id>/<sequence>.json`: a node store object's properties when they
 *   are too large for a DynamoDB item (`ObjectBodies`, used by the node store). One key per
 *   object version, never overwritten, so a slow writer can never replace a newer version's
 *   body with an older one.
 *
 * Requests are signed by `SignedFetch` (see aws-fetch.ts for why not `@aws-sdk/client-s3`).
 */
import { randomUUID } from 'node:crypto';
import type { Provider } from '@smithy/types';
import { InvalidConfigEventError } from '../errors';
import type { ConfigChange } from '../events';
import type { EventBodyStore } from '../ports';
import { dnsSuffix, encodePathSegment, type SignedFetch } from './aws-fetch';

export interface S3BucketOptions {
  readonly bucket: string;
  readonly region: string | Provider<string>;
  /** Endpoint override (`AWS_ENDPOINT_URL_S3`); default the bucket's AWS endpoint. */
  readonly endpoint?: string;
  /** Path-style URLs (`<endpoint>/<bucket>/<key>`), which the local emulator needs. @default false */
  readonly forcePathStyle?: boolean;
}

/** The three object operations the bodies need, on one bucket. */
export class S3Bucket {
  constructor(
    private readonly fetcher: SignedFetch,
    readonly options: S3BucketOptions,
  ) {}

  get name(): string {
    return this.options.bucket;
  }

  async putText(key: string, text: string, contentType = 'application/json'): Promise<void> {
    const response = await this.fetcher.send({
      method: 'PUT',
      url: await this.url(key),
      headers: { 'content-type': contentType },
      body: text,
    });
    if (response.status === 404) throw new Error(`S3 bucket ${this.options.bucket} does not exist`);
  }

  /** The object's text, or `undefined` when there is no such key. */
  async getText(key: string): Promise<string | undefined> {
    const response = await this.fetcher.send({ method: 'GET', url: await this.url(key) });
    return response.status === 404 ? undefined : response.body;
  }

  async delete(key: string): Promise<void> {
    await this.fetcher.send({ method: 'DELETE', url: await this.url(key) });
  }

  private async url(key: string): Promise<string> {
    const { bucket, endpoint, forcePathStyle } = this.options;
    const path = key.split('/').map(encodePathSegment).join('/');
    if (endpoint !== undefined) {
      if (forcePathStyle) return `${endpoint}/${bucket}/${path}`;
      const base = new URL(endpoint);
      return `${base.protocol}//${bucket}.${base.host}/${path}`;
    }
    const region = typeof this.options.region === 'string' ? this.options.region : await this.options.region();
    return forcePathStyle
      ? `https://s3.${region}.${dnsSuffix(region)}/${bucket}/${path}`
      : `https://${bucket}.s3.${region}.${dnsSuffix(region)}/${path}`;
  }
}

const REF_PREFIX = 's3://';
export const EVENT_BODY_PREFIX = 'events/';

/** `EventBodyStore` on S3: references are `s3://<bucket>/events/<cluster>/<uuid>.json`. */
export class S3EventBodyStore implements EventBodyStore {
  constructor(
    private readonly bucket: S3Bucket,
    private readonly newId: () => string = randomUUID,
  ) {}

  async put(cluster: string, change: ConfigChange): Promise<string> {
    const key = `${EVENT_BODY_PREFIX}${cluster}/${this.newId()}.json`;
    await this.bucket.putText(key, JSON.stringify(change));
    return `${REF_PREFIX}${this.bucket.name}/${key}`;
  }

  async get(bodyRef: string): Promise<unknown> {
    const key = this.keyOf(bodyRef);
    const text = await this.bucket.getText(key);
    if (text === undefined) throw new Error(`Event body ${bodyRef} does not exist`);
    return JSON.parse(text) as unknown;
  }

  /**
   * Only references into this bucket's event bodies are followed: a message is input, and a
   * forged reference must not make a function read anything else it may read.
   */
  private keyOf(bodyRef: string): string {
    const prefix = `${REF_PREFIX}${this.bucket.name}/${EVENT_BODY_PREFIX}`;
    if (!bodyRef.startsWith(prefix) || bodyRef.includes('..')) {
      throw new InvalidConfigEventError([{ field: 'bodyRef', message: `must be an event body of bucket ${this.bucket.name}` }]);
    }
    return bodyRef.slice(REF_PREFIX.length + this.bucket.name.length + 1);
  }
}

/** Large properties of node store objects, under `objects/<node>/`. */
export interface ObjectBodies {
  /** Stores the properties' JSON text; returns the key the item records. */
  put(node: string, objectKey: string, sequence: number, json: string): Promise<string>;
  /** The JSON text, or `undefined` when the key no longer exists (a newer version replaced it). */
  get(key: string): Promise<string | undefined>;
  delete(key: string): Promise<void>;
}

export const OBJECT_BODY_PREFIX = 'objects/';

export class S3ObjectBodies implements ObjectBodies {
  constructor(private readonly bucket: S3Bucket) {}

  async put(node: string, objectKey: string, sequence: number, json: string): Promise<string> {
    // `type/id`: the id may hold any character but `/`, `:` and white space; it is kept
    // readable but encoded, so the key has exactly the segments the layout above names.
    const separator = objectKey.indexOf('/');
    const type = objectKey.slice(0, separator);
    const id = encodeURIComponent(objectKey.slice(separator + 1));
    const key = `${OBJECT_BODY_PREFIX}${node}/${type}/${id}/${sequence}.json`;
    await this.bucket.putText(key, json);
    return key;
  }

  get(key: string): Promise<string | undefined> {
    return this.bucket.getText(key);
  }

  delete(key: string): Promise<void> {
    return this.bucket.delete(key);
  }
}
