/**
 * The SNS FIFO topic: one message per event, the event's JSON as the body (queues subscribe
 * with raw delivery), in the cluster's single message group, deduplicated by sequence, and
 * with the `origin` attribute the subscription filter policies match on.
 *
 * SNS Publish is one form-encoded Query API request, signed by `SignedFetch` (see
 * aws-fetch.ts for why not `@aws-sdk/client-sns`).
 */
import { ORIGIN_ATTRIBUTE } from '../cluster';
import { deduplicationId, messageGroupId, type PublishedEvent } from '../events';
import type { EventTopic } from '../ports';
import { dnsSuffix, type SignedFetch } from './aws-fetch';

export interface SnsEventTopicOptions {
  readonly topicArn: string;
  /** Endpoint override (`AWS_ENDPOINT_URL_SNS`); default the topic's regional endpoint. */
  readonly endpoint?: string;
}

export class SnsEventTopic implements EventTopic {
  private readonly endpoint: string;

  constructor(
    private readonly fetcher: SignedFetch,
    private readonly options: SnsEventTopicOptions,
  ) {
    const region = topicRegion(options.topicArn);
    this.endpoint = options.endpoint ?? `https://sns.${region}.${dnsSuffix(region)}`;
  }

  async publish(event: PublishedEvent): Promise<void> {
    const form = new URLSearchParams({
      Action: 'Publish',
      Version: '2010-03-31',
      TopicArn: this.options.topicArn,
      Message: JSON.stringify(event),
      MessageGroupId: messageGroupId(event.cluster),
      MessageDeduplicationId: deduplicationId(event),
      'MessageAttributes.entry.1.Name': ORIGIN_ATTRIBUTE,
      'MessageAttributes.entry.1.Value.DataType': 'String',
      'MessageAttributes.entry.1.Value.StringValue': event.origin,
    });
    const response = await this.fetcher.send({
      method: 'POST',
      url: `${this.endpoint}/`,
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body: form.toString(),
    });
    if (response.status === 404) throw new Error(`SNS answered 404 publishing to ${this.options.topicArn}: ${response.body.slice(0, 200)}`);
  }
}

/** `arn:<partition>:sns:<region>:<account>:<name>` -> region. */
export function topicRegion(topicArn: string): string {
  const region = topicArn.split(':')[3];
  if (!region) throw new Error(`Not an SNS topic ARN: ${topicArn}`);
  return region;
}
