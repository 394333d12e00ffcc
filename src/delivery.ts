/**
 * The seam between the log and the hub: what a burst of work asked the log for (`Staged`), what
 * the hub is handed to fan out once the log has committed it (`Delivery`), and what the log
 * replays to a client that joins (`Replay`).
 *
 * Both are plain, structured-clonable data that name connections by id, never by socket: a hub
 * in another Durable Object could receive the same deliveries over RPC (README.md, "A second
 * hub").
 */
import type { ChatMessage } from "./protocol.ts";

/** A connection, as the log and deliveries know it: the hub's `Connection.id`. */
export type ConnectionId = string;

/**
 * One thing a burst holds, in the order it came, until the burst's messages are committed:
 * - `new`: a message staged in the log now, sent by `from`;
 * - `repeat`: a retried send whose `clientId` the log already had (stored before, or `staged`
 *   earlier in this same burst); only the connection that retried it hears of it again;
 * - `frame`: a plain client's binary or empty frame, relayed to plain sockets, never stored;
 * - `unreadable`: a message the log could not even check (its storage failed to read); its
 *   sender is told in turn.
 */
export type Staged =
	| { readonly kind: "new"; readonly message: ChatMessage; readonly from: ConnectionId }
	| { readonly kind: "repeat"; readonly message: ChatMessage; readonly to: ConnectionId; readonly staged: boolean }
	| { readonly kind: "frame"; readonly frame: string | ArrayBuffer }
	| { readonly kind: "unreadable"; readonly clientId: string | null; readonly from: ConnectionId };

/**
 * One thing for the hub to fan out, in order, at the end of a burst:
 * - `message`: a stored message, for everyone;
 * - `echo`: a stored message again, for one connection (its retried send);
 * - `refused`: a message that could not be stored, for its sender to be told;
 * - `frame`: a plain binary or empty frame, for plain sockets.
 */
export type Delivery =
	| { readonly kind: "message"; readonly message: ChatMessage }
	| { readonly kind: "echo"; readonly message: ChatMessage; readonly to: ConnectionId }
	| { readonly kind: "refused"; readonly clientId: string | null; readonly to: ConnectionId }
	| { readonly kind: "frame"; readonly frame: string | ArrayBuffer };

/**
 * What a burst comes to once its commit has succeeded (`stored`) or failed. A failed commit
 * stores none of the burst's new messages, so they reach nobody and each sender is refused; a
 * repeat of a message stored in an earlier burst is still good.
 */
export function deliveriesOf(burst: readonly Staged[], stored: boolean): Delivery[] {
	return burst.map((item): Delivery => {
		if (item.kind === "frame") return item;
		if (item.kind === "unreadable") return { kind: "refused", clientId: item.clientId, to: item.from };
		if (item.kind === "new") {
			return stored
				? { kind: "message", message: item.message }
				: { kind: "refused", clientId: item.message.clientId, to: item.from };
		}
		return stored || !item.staged
			? { kind: "echo", message: item.message, to: item.to }
			: { kind: "refused", clientId: item.message.clientId, to: item.to };
	});
}

/** What a joining client is replayed, and whether some of what it missed is gone. */
export interface Replay {
	/** Oldest first. */
	readonly messages: ChatMessage[];
	/** True when some messages it asked for are no longer retained (or `since` is unknown). */
	readonly gap: boolean;
	/** Id of the newest message (0 when there is none). */
	readonly latestId: number;
}
