/**
 * What the room remembers about one connection. It is stored as the socket's attachment
 * (`serializeAttachment`), so it survives hibernation and eviction with the socket itself.
 */

/** One connection's state. */
export interface Session {
	/** `plain`: the tutorial's text relay; `rich`: the edgechat.v1 JSON protocol. */
	readonly mode: "plain" | "rich";
	/** Display name; `null` for a rich connection that has not said `hello` yet. */
	readonly name: string | null;
}

/** Reads a socket's session back from its attachment. */
export function readSession(ws: WebSocket): Session {
	const attachment = ws.deserializeAttachment() as Partial<Session> | null;
	return { mode: attachment?.mode === "rich" ? "rich" : "plain", name: attachment?.name ?? null };
}

/** Stores a socket's session as its attachment. */
export function writeSession(ws: WebSocket, session: Session): void {
	ws.serializeAttachment(session);
}
