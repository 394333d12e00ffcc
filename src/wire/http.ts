/**
 * The HTTP answers the Worker and the objects give before any WebSocket exists: one test of
 * "is this an upgrade", one 426, one shape for a refusal (a status and a one-line reason, plain
 * text). The Worker checks an upgrade first; the objects check again only because anything that
 * can reach them by `fetch` can send them anything.
 */

/** Whether a request asks to become a WebSocket (`Upgrade: websocket`, any case). */
export function isWebSocketUpgrade(request: Request): boolean {
	return request.headers.get("Upgrade")?.toLowerCase() === "websocket";
}

/** A short plain-text answer: a status and a one-line reason (never read as anything but text: `nosniff`). */
export function refuse(status: number, reason: string, headers: Record<string, string> = {}): Response {
	return new Response(`${reason}\n`, {
		status,
		headers: { "Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff", ...headers },
	});
}

/** The answer to a request for the socket path without `Upgrade: websocket`. */
export function upgradeRequired(): Response {
	return refuse(426, "this path only speaks WebSocket: send Upgrade: websocket", { Upgrade: "websocket" });
}

/**
 * The 429 for an upgrade past `MAX_CONNECTIONS_PER_USER` (signed mode, `user`) or
 * `MAX_CONNECTIONS_PER_ADDRESS` (open mode): given by the room's object, or by a shard the Worker
 * placed the upgrade on by itself (src/wire/placement.ts).
 */
export function tooManyConnections(holder: "user" | "address", limit: number): Response {
	const reason =
		holder === "user"
			? `too many connections for this user (${limit}); close one and try again`
			: `too many connections from your address in this room (${limit}); try again later`;
	return refuse(429, reason, { "Retry-After": "10" });
}
