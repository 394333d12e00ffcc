/**
 * The webhook events a room sends its operator's backend (docs/operating.md, "Webhooks"): what each one
 * carries, and which of them a burst of the room's work comes to. One module for the room that
 * writes them (src/room/webhook-outbox.ts), the Worker that delivers them (src/webhooks/sender.ts),
 * the tests that receive them and the examples of docs/operating.md.
 *
 * Every event is the body of one Standard Webhooks request: `{"type", "timestamp", "data"}`, with
 * `data.room` the room's name. Messages, edits and deletes are entries of the room's log, so their
 * `data` is the entry as clients see it (its log `id` first); kicks and bans are not in the log.
 * Reactions, typing, joins and leaves are not sent: they are the room's live state, not its
 * record, and a busy room makes many of them a second.
 */

import type { ChatMessage, DeleteEntry, EditEntry } from "../wire/log-entries.ts";
import type { Staged } from "./burst.ts";

/** What every event's `data` has: the room's name. */
interface InRoom {
	room: string;
}

/** A message was stored (from a rich or plain client, or posted through the HTTP API). */
export interface MessageCreated {
	type: "message.created";
	data: InRoom & ChatMessage;
}

/** Signed mode: a message was edited by its author; `id` is the edit's own log id, `target` the message's. */
export interface MessageEdited {
	type: "message.edited";
	data: InRoom & Omit<EditEntry, "kind">;
}

/** A message was deleted (by its author or a moderator, or through the HTTP API); `target` is the message's id. */
export interface MessageDeleted {
	type: "message.deleted";
	data: InRoom & Omit<DeleteEntry, "kind">;
}

/** Signed mode: a moderator (`by`) closed every connection of a user. */
export interface UserKicked {
	type: "user.kicked";
	data: InRoom & { userId: string; name?: string; by: string };
}

/** Signed mode: a moderator (`by`) banned a user until `until` (ms since the epoch). */
export interface UserBanned {
	type: "user.banned";
	data: InRoom & { userId: string; name?: string; by: string; until: number };
}

/** One webhook event, without its `timestamp` (added when it is written). */
export type WebhookEvent = MessageCreated | MessageEdited | MessageDeleted | UserKicked | UserBanned;

/** Every event type, in the order docs/operating.md lists them. */
export const WEBHOOK_EVENT_TYPES = [
	"message.created",
	"message.edited",
	"message.deleted",
	"user.kicked",
	"user.banned",
] as const satisfies readonly WebhookEvent["type"][];

/** The body of one webhook request, as the receiver parses it. */
export type WebhookBody = WebhookEvent & {
	/** When the room committed what the event reports (ISO 8601). */
	timestamp: string;
};

/**
 * The events a burst comes to, in its order, if its commit succeeds: every new message, every
 * edit and delete, every kick and ban a moderator made (a ban enforced again on a user who was
 * already told is not news). Repeats of stored messages, refusals and presence are not events.
 */
export function eventsOf(burst: readonly Staged[], room: string): WebhookEvent[] {
	const events: WebhookEvent[] = [];
	for (const item of burst) {
		switch (item.kind) {
			case "new":
				events.push({ type: "message.created", data: { room, ...item.message } });
				break;
			case "change": {
				const entry = item.entry;
				if (!("kind" in entry) || entry.kind === "reactions") break;
				const { kind, ...fields } = entry;
				if (kind === "edit")
					events.push({ type: "message.edited", data: { room, ...(fields as Omit<EditEntry, "kind">) } });
				else events.push({ type: "message.deleted", data: { room, ...(fields as Omit<DeleteEntry, "kind">) } });
				break;
			}
			case "remove": {
				const notice = item.notice;
				if (notice === null) break;
				const { type: _, until, ...who } = notice;
				if (until === undefined) events.push({ type: "user.kicked", data: { room, ...who } });
				else events.push({ type: "user.banned", data: { room, ...who, until } });
				break;
			}
		}
	}
	return events;
}
