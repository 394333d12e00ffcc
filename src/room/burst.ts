/**
 * A burst: everything the room's object is asked between two ends of a burst, in the order it
 * came (`Staged`), and what it comes to once the log has committed it (`deliveriesOf`), for every
 * hub of the room. The room owns the burst (src/room/room.ts decides when one ends); this file
 * only says what a burst holds and how a commit's outcome turns it into deliveries.
 */
import type { ChatMessage, LogEntry } from "../wire/log-entries.ts";
import type { HistoryEvent } from "../wire/protocol.ts";
import type { ConnectionId, Delivery, Replay, Submission } from "../wire/rpc.ts";
import { type WelcomeLimits, type WelcomeRequest, welcomeOf } from "./welcome.ts";

/** A history request, as the log's reader takes it. */
export type PageRequest = Pick<Extract<Submission, { kind: "history" }>, "before" | "after" | "limit">;

/**
 * One thing a burst holds, in the order it came, until the burst's messages are committed:
 * - `new`: a message staged in the log now, sent by `from`;
 * - `repeat`: a retried send whose `clientId` the log already had (stored before, or `staged`
 *   earlier in this same burst); only the connection that retried it hears of it again;
 * - `frame`: a plain client's binary or empty frame, relayed to plain sockets, never stored;
 * - `unreadable`: a message the log could not even check (its storage failed to read); its
 *   sender is told in turn;
 * - `change`: an edit or a delete (signed mode), or a burst's reactions to a message, given its
 *   log id now, made by `from`;
 * - `error`: a refusal the room decided (who may edit what), for `to` alone;
 * - `remove`: a moderator kicked or banned a user: its connections close everywhere;
 * - `join`, `leave`: a member's first connection in the room arrived, its last one went;
 * - `presence`: past `PRESENCE_LIMIT`, the joins and leaves of an interval in one event;
 * - `typing`: someone is typing, for everyone but `from`;
 * - `settings`: the room's settings changed (already stored), for everyone;
 * - `reactors`: who reacted to a message, answered to `to` as read when asked;
 * - `welcome`: the answer to a `hello`, completed with its history at the commit;
 * - `history`: a history request, answered with its page after the commit.
 */
export type Staged =
	| { readonly kind: "new"; readonly message: ChatMessage; readonly from: ConnectionId }
	| { readonly kind: "repeat"; readonly message: ChatMessage; readonly to: ConnectionId; readonly staged: boolean }
	| { readonly kind: "frame"; readonly frame: string | ArrayBuffer }
	| { readonly kind: "unreadable"; readonly clientId: string | null; readonly from: ConnectionId }
	| { readonly kind: "change"; readonly entry: LogEntry; readonly from: ConnectionId }
	| Extract<Delivery, { kind: "error" | "remove" | "join" | "leave" | "presence" | "typing" | "settings" | "reactors" }>
	| { readonly kind: "welcome"; readonly to: ConnectionId; readonly request: WelcomeRequest }
	| { readonly kind: "history"; readonly to: ConnectionId; readonly request: PageRequest };

/** A `join` or a `leave` of the burst: a member's first connection in the room arrived, or its last left. */
export type JoinOrLeave = Extract<Staged, { kind: "join" | "leave" }>;

/** What a burst's commit answers: whether it was stored, and what its requests read. */
export interface Answers {
	readonly stored: boolean;
	/** One per welcome of the burst, in its order. */
	readonly replays: readonly Replay[];
	/** One per history request of the burst, in its order. */
	readonly pages: readonly HistoryEvent[];
	/** One per welcome: where its user has read to (signed mode; `null` in open mode). */
	readonly readUpTo: readonly (number | null)[];
}

/**
 * What a burst comes to once its commit has succeeded (`answers.stored`) or failed. A failed
 * commit stores none of the burst's new messages, so they reach nobody and each sender is
 * refused; a repeat of a message stored in an earlier burst is still good. The answers hold the
 * history of each welcome and each history request, in the burst's order.
 */
export function deliveriesOf(burst: readonly Staged[], answers: Answers, limits: WelcomeLimits): Delivery[] {
	const { stored, replays, pages, readUpTo } = answers;
	let welcomes = 0;
	let requests = 0;
	return burst.map((item): Delivery => {
		switch (item.kind) {
			case "new":
				return stored
					? { kind: "message", message: item.message }
					: { kind: "refused", clientId: item.message.clientId, to: item.from };
			case "repeat":
				return stored || !item.staged
					? { kind: "echo", message: item.message, to: item.to }
					: { kind: "refused", clientId: item.message.clientId, to: item.to };
			case "unreadable":
				return { kind: "refused", clientId: item.clientId, to: item.from };
			case "change":
				return stored ? { kind: "message", message: item.entry } : { kind: "refused", clientId: null, to: item.from };
			case "welcome": {
				const read = readUpTo[welcomes] ?? null;
				const event = welcomeOf(item.request, replays[welcomes++] as Replay, limits, read);
				return { kind: "welcome", to: item.to, event };
			}
			case "history":
				return { kind: "history", to: item.to, event: pages[requests++] as NonNullable<(typeof pages)[number]> };
			default:
				return item;
		}
	});
}
