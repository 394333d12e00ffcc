/**
 * What travels through the webhook queues, and the schedule it travels on: one queue message per
 * event, its retries, and the dead-letter queue at the end. Plain data and arithmetic, shared by
 * the room's outbox (the producer), the sender and the dead letters' consumer (src/webhooks/).
 */

/** One queue message: the event's JSON body and the `webhook-id` it keeps on every attempt. */
export interface WebhookDelivery {
	readonly id: string;
	readonly body: string;
}

/** The dead-letter queue's name, as wrangler.toml's webhook consumer names it (a test holds them equal). */
export const DEAD_LETTER_QUEUE = "edgechat-webhooks-dead";

/** The longest delay the queue takes before a retry: 12 hours. */
export const MAX_RETRY_DELAY_SECONDS = 43_200;

/** How long to wait before attempt `attempts + 1`, after attempt `attempts` (1, 2, ...) failed. */
export function retryDelaySeconds(attempts: number, baseSeconds: number): number {
	return Math.min(baseSeconds * 3 ** (attempts - 1), MAX_RETRY_DELAY_SECONDS);
}

/** The room an event is of (`data.room` of its body). */
export function roomOf(delivery: WebhookDelivery): string {
	return (JSON.parse(delivery.body) as { data: { room: string } }).data.room;
}
