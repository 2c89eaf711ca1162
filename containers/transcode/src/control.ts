/**
 * Sends control messages to the coordinator: the FIFO control queue, one
 * message group per video, so a video's events are handled one at a time and
 * in the order they were sent (SQS developer guide, "FIFO queue logic").
 */
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { ControlMessage } from '@vod/contract';

export type SendControl = (message: ControlMessage) => Promise<void>;

/**
 * @param dedupKey What makes this message unique among its video's messages
 *   (SQS drops a second message with the same deduplication id within 5
 *   minutes, so a retried send is not delivered twice).
 */
export function controlSender(sqs: SQSClient, queueUrl: string): SendControl {
  let sequence = 0;
  return async (message) => {
    const unique =
      message.type === 'chunk-done' ? `chunk-${message.index}-${message.attempt}`
      : message.type === 'audio-done' ? `audio-${message.attempt}`
      : message.type === 'audio-partial' ? `audio-${message.attempt}-partial-${message.segments.length}`
      : message.type === 'poster-done' ? `poster-${message.attempt}`
      : message.type === 'download-done' ? `download-${message.attempt}`
      : message.type === 'storyboard-done' ? `storyboard-${message.attempt}`
      : message.type === 'captions-done' ? `captions-${message.attempt}`
      : message.type === 'planned' ? 'planned'
      : `${message.type}-${Date.now()}-${process.pid}-${sequence++}`;
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: JSON.stringify(message),
        MessageGroupId: message.videoId,
        MessageDeduplicationId: `${message.videoId}-${message.run}-${unique}`,
      }),
    );
  };
}
