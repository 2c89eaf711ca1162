/**
 * Webhook delivery worker entry point: the only file of this process that
 * reads the environment. Runs from the upload image as its own process (its
 * own ECS service in AWS, its own supervised process under `npm start`).
 *
 *   AWS_REGION, LOG_LEVEL, HOST
 *   HEALTH_PORT          `/healthz` port (8084)
 *   WEBHOOKS_QUEUE_URL   the webhooks queue
 *   VOD_WEBHOOK_URLS     receivers, comma-separated http(s) URLs (none: events are dropped)
 *   VOD_WEBHOOK_SECRET   `whsec_…` signing secret (Standard Webhooks)
 *   POLL_WAIT_SECONDS    SQS long-poll wait (20)
 */
import { WEBHOOK_QUEUE_DEFAULTS } from '@vod/contract';
import {
  baseApp,
  createLogger,
  createSqsClient,
  env,
  errorMiddleware,
  loadConfigOrExit,
  notFoundHandler,
  runService,
} from '@vod/service-kit';
import { z } from 'zod';
import { createWebhookDelivery, redactUrl } from './webhook-delivery.js';

const config = loadConfigOrExit(
  'webhooks',
  z.object({
    AWS_REGION: env.aws.AWS_REGION,
    LOG_LEVEL: env.aws.LOG_LEVEL,
    ...env.host,
    HEALTH_PORT: env.port(8084),
    WEBHOOKS_QUEUE_URL: env.url('WEBHOOKS_QUEUE_URL', 'https://sqs.us-east-1.amazonaws.com/123456789012/vod-webhooks'),
    ...env.webhookReceivers,
    POLL_WAIT_SECONDS: z.coerce.number().int().min(0).max(20).default(WEBHOOK_QUEUE_DEFAULTS.receiveWaitTimeSeconds),
  }),
);

const logger = createLogger('webhooks', config.LOG_LEVEL);
const delivery = createWebhookDelivery({
  sqs: createSqsClient({ region: config.AWS_REGION }),
  queueUrl: config.WEBHOOKS_QUEUE_URL,
  urls: config.VOD_WEBHOOK_URLS,
  secret: config.VOD_WEBHOOK_SECRET,
  logger,
  timing: { pollWaitSeconds: config.POLL_WAIT_SECONDS },
});

// The worker has no API: its HTTP server is only the container health check.
const health = baseApp(logger, () => ({ receivers: config.VOD_WEBHOOK_URLS.map(redactUrl) }));
health.use(notFoundHandler);
health.use(errorMiddleware(logger));

runService({
  name: 'webhook delivery health endpoint',
  app: health,
  host: config.HOST,
  port: config.HEALTH_PORT,
  logger,
  beforeClose: () => delivery.stop((config.POLL_WAIT_SECONDS + WEBHOOK_QUEUE_DEFAULTS.requestTimeoutSeconds + 5) * 1000),
});
delivery.start();
