/**
 * Messages received from a queue (fauxqs, in the tests) handed to a consumer as Lambda's SQS
 * event source would hand them: the SQSEvent the apply and master-stores functions take.
 */
import type { Message } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';

export function sqsEvent(messages: readonly Message[]): SQSEvent {
  return {
    Records: messages.map((message) => ({
      messageId: message.MessageId ?? '',
      receiptHandle: message.ReceiptHandle ?? '',
      body: message.Body ?? '',
      attributes: message.Attributes as never,
      messageAttributes: Object.fromEntries(
        Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [name, { dataType: value.DataType ?? 'String', stringValue: value.StringValue }]),
      ),
      md5OfBody: message.MD5OfBody ?? '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:queue.fifo',
      awsRegion: 'us-east-1',
    })),
  };
}
