/**
 * The webhook sender: the Worker's consumer of the webhook queue (docs/operating.md, "Webhooks"). Each
 * queue message is one event a room committed (src/room/webhook-outbox.ts); it is POSTed to
 * `WEBHOOK_URL` as a Standard Webhooks request, signed with `WEBHOOK_SECRET` by the
 * `standardwebhooks` package (the same one a receiver verifies with): `webhook-id` (the same on
 * every attempt), `webhook-timestamp` (this attempt's time, which the signature covers) and
 * `webhook-signature`.
 *
 * An answer of 2xx acknowledges the event. Anything else (another status, a redirect, a network
 * error, no answer within `WEBHOOK_TIMEOUT_SECONDS`) retries it later, each wait three times the
 * one before from `WEBHOOK_RETRY_BASE_SECONDS`; after the attempts wrangler.toml allows
 * (`max_retries`) the queue moves it to the dead-letter queue, whose consumer keeps it in its
 * room (src/room/failed-webhooks.ts), to be listed and sent again through the HTTP API.
 */
import { Webhook } from "standardwebhooks";
import type { WebhookSettings } from "../deployment/config.ts";
import { logEvent } from "../deployment/log-event.ts";
import { retryDelaySeconds, type WebhookDelivery } from "./delivery.ts";

/**
 * Delivers one batch from the webhook queue, every event at once (the queue promises no order
 * between them anyway: each carries its log id and time). Never throws: each message is
 * acknowledged or retried on its own.
 */
export async function sendWebhooks(batch: MessageBatch<WebhookDelivery>, settings: WebhookSettings): Promise<void> {
	const signer = new Webhook(settings.secret);
	await Promise.all(
		batch.messages.map(async (message) => {
			const failure = await attempt(message.body, signer, settings);
			if (failure === null) {
				message.ack();
				return;
			}
			const delaySeconds = retryDelaySeconds(message.attempts, settings.retryBaseSeconds);
			logEvent("webhook_failed", {
				webhookId: message.body.id,
				attempt: message.attempts,
				failure,
				retryIn: delaySeconds,
			});
			message.retry({ delaySeconds });
		}),
	);
}

/** One attempt: `null` when the receiver answered 2xx, else what went wrong, in a few words. */
async function attempt(delivery: WebhookDelivery, signer: Webhook, settings: WebhookSettings): Promise<string | null> {
	const now = new Date();
	try {
		const response = await fetch(settings.url, {
			method: "POST",
			headers: {
				"Content-Type": "application/json",
				"User-Agent": "edgechat-webhooks",
				"webhook-id": delivery.id,
				"webhook-timestamp": String(Math.floor(now.getTime() / 1000)),
				"webhook-signature": signer.sign(delivery.id, now, delivery.body),
			},
			body: delivery.body,
			// A redirect is a failure, not a new address: Standard Webhooks receivers answer 2xx.
			redirect: "manual",
			signal: AbortSignal.timeout(settings.timeoutSeconds * 1000),
		});
		// The answer's body is not read; cancelling it frees the connection.
		await response.body?.cancel();
		return response.status >= 200 && response.status < 300 ? null : `status ${response.status}`;
	} catch (error) {
		if (error instanceof DOMException && error.name === "TimeoutError") {
			return `no answer within ${settings.timeoutSeconds} s`;
		}
		return String(error);
	}
}
