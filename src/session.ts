/**
 * What the room remembers about one connection. It is stored as the socket's attachment
 * (`serializeAttachment`), so it survives hibernation and eviction with the socket itself.
 */
import type { BucketState } from "./rate-limit.ts";

/** One connection's state. */
export interface Session {
	/** `plain`: the tutorial's text relay; `rich`: the edgechat.v1 JSON protocol. */
	readonly mode: "plain" | "rich";
	/** Display name; `null` for a rich connection that has not said `hello` yet. */
	name: string | null;
	/** When the connection was accepted, in ms since the epoch. */
	readonly connectedAt: number;
	/** Flood control for this connection (its `updatedAt` is also its last message's time). */
	readonly bucket: BucketState;
}

/** Reads a socket's session back from its attachment. */
export function readSession(ws: WebSocket): Session | null {
	return ws.deserializeAttachment() as Session | null;
}

/** Stores a socket's session as its attachment. */
export function saveSession(ws: WebSocket, session: Session): void {
	ws.serializeAttachment(session);
}
