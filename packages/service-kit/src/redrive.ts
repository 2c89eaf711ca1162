/**
 * Moves messages from a dead-letter queue back to the queue they came from.
 *
 * SQS has `StartMessageMoveTask` for this, but the local emulator (fauxqs)
 * does not implement it, so this does what works on both: receive a batch
 * from the dead-letter queue, send it to the target, and delete from the
 * dead-letter queue only what the target accepted. A crash between send and
 * delete leaves a copy in both queues — at least once, never lost — and the
 * pipeline treats a duplicate job as a no-op (a planned run is not planned
 * again, a finished chunk is reported once more and ignored).
 *
 * For standard queues (the jobs queue); FIFO queues would need group ids.
 */
import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';

export interface RedriveOptions {
  /** The dead-letter queue's URL. */
  from: string;
  /** The queue to move the messages to. */
  to: string;
  /** Move at most this many messages (default: until the dead-letter queue is empty). */
  max?: number;
  /**
   * Seconds a received message stays hidden while it is being moved (default 30);
   * one whose send failed reappears in the dead-letter queue after this.
   */
  visibilityTimeoutSeconds?: number;
}

/** SQS batch limit (SQS developer guide, "Amazon SQS batch actions"). */
const BATCH = 10;

/**
 * Moves dead-lettered messages (bodies and message attributes) to `to`.
 * Stops when a receive finds nothing (long poll of 1 s, so every SQS host is
 * asked) or `max` are moved.
 * @returns How many messages were moved.
 * @throws the SDK's error when a queue cannot be read or written.
 */
export async function redriveMessages(sqs: SQSClient, opts: RedriveOptions): Promise<number> {
  const max = opts.max ?? Number.POSITIVE_INFINITY;
  let moved = 0;
  while (moved < max) {
    const received = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: opts.from,
        MaxNumberOfMessages: Math.min(BATCH, max - moved),
        WaitTimeSeconds: 1,
        VisibilityTimeout: opts.visibilityTimeoutSeconds ?? 30,
        MessageAttributeNames: ['All'],
      }),
    );
    const messages: Message[] = received.Messages ?? [];
    if (messages.length === 0) break;
    const sent = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: opts.to,
        Entries: messages.map((m, i) => ({
          Id: String(i),
          MessageBody: m.Body ?? '',
          ...(m.MessageAttributes && Object.keys(m.MessageAttributes).length ? { MessageAttributes: m.MessageAttributes } : {}),
        })),
      }),
    );
    const ok = (sent.Successful ?? []).map((s) => messages[Number(s.Id)]!);
    if (ok.length > 0) {
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: opts.from,
          Entries: ok.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
        }),
      );
    }
    moved += ok.length;
    if (sent.Failed?.length) {
      const f = sent.Failed[0]!;
      throw new Error(`Could not move ${sent.Failed.length} message(s) to ${opts.to}: ${f.Code}${f.Message ? ` ${f.Message}` : ''} (${moved} moved)`);
    }
  }
  return moved;
}
