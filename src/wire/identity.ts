/**
 * Who a connection is in signed mode (PROTOCOL.md, "Signed identity and moderation"): what the
 * Worker read from a verified token, handed to the room's objects in a header of the forwarded
 * upgrade. Only the Worker reaches the objects, and it always replaces this header, so the
 * objects can trust it. In open mode there is none.
 */
import type { Role } from "./protocol.ts";

/** The verified claims a connection acts under. */
export interface Identity {
	/** The token's `sub`. */
	readonly userId: string;
	/** The token's `name`, checked by the same rules as a `hello` name. */
	readonly name: string;
	readonly role: Role;
}

/** Set by the Worker on a forwarded upgrade in signed mode: the `Identity`, as JSON. */
export const IDENTITY_HEADER = "Edgechat-Identity";

/** The identity the Worker put on an upgrade, or `null` in open mode. */
export function identityOf(request: Request): Identity | null {
	const header = request.headers.get(IDENTITY_HEADER);
	return header ? (JSON.parse(header) as Identity) : null;
}

/**
 * The client's address, as Cloudflare (and `wrangler dev`) states it in `CF-Connecting-IP`
 * (a client's own value is replaced at Cloudflare's edge); `null` when the request does not say.
 */
export function addressOf(request: Request): string | null {
	return request.headers.get("CF-Connecting-IP");
}

/**
 * The tag a socket is accepted under (the Hibernation API's tags): its user in signed mode, its
 * address in open mode, so an object counts one holder's sockets (`getWebSockets(tag)`) without
 * keeping a tally of its own (src/shard/shard.ts, limits per user and per address).
 */
export function holderTag(identity: Identity | null, address: string | null): string | null {
	if (identity) return `user:${identity.userId}`;
	return address === null ? null : `address:${address}`;
}
