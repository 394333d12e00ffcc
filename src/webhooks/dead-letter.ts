/**
 * The dead-letter queue's consumer, in the Worker: an event that failed every attempt goes back
 * to the room that committed it, which keeps it to be listed and sent again through the HTTP API
 * (src/room/failed-webhooks.ts).
 */
import { roomOf, type WebhookDelivery } from "./delivery.ts";

/**
 * The dead-letter queue's consumer: each event goes back to its room,
 * one call per room per batch. What a room does not take (its call failed) is retried.
 */
export async function returnToRooms(batch: MessageBatch<WebhookDelivery>, rooms: Env["ROOMS"]): Promise<void> {
	const byRoom = new Map<string, Message<WebhookDelivery>[]>();
	for (const message of batch.messages) {
		const room = roomOf(message.body);
		byRoom.set(room, [...(byRoom.get(room) ?? []), message]);
	}
	await Promise.all(
		[...byRoom].map(async ([room, messages]) => {
			try {
				await rooms.get(rooms.idFromName(room)).keepFailedWebhooks(messages.map((message) => message.body));
				for (const message of messages) message.ack();
			} catch {
				for (const message of messages) message.retry();
			}
		}),
	);
}
