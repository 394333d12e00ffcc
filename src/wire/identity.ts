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

/**
 * Set by the Worker on a forwarded upgrade in signed mode: the `Identity`, as JSON, percent-encoded.
 * A header value is bytes, not text: a name in any script (`Zoë`, `山田`) would reach the object as
 * whatever the runtime makes of raw UTF-8 in a header, so only ASCII travels.
 */
export const IDENTITY_HEADER = "Edgechat-Identity";

/** The header value that carries `identity` (`identityOf` reads it back). */
export function identityHeader(identity: Identity): string {
	return encodeURIComponent(JSON.stringify(identity));
}

/** The identity the Worker put on an upgrade, or `null` in open mode. */
export function identityOf(request: Request): Identity | null {
	const header = request.headers.get(IDENTITY_HEADER);
	return header ? (JSON.parse(decodeURIComponent(header)) as Identity) : null;
}

/**
 * The client's address as the limits per address count it: the `CF-Connecting-IP` header
 * Cloudflare (and `wrangler dev`) sets (a client's own value is replaced at Cloudflare's edge),
 * `null` when the request does not say. An IPv4 address is one holder; an IPv6 address counts by
 * its /64, since one host is routinely handed a whole /64 (every address in it is the same
 * client, and one per socket would be no limit at all). An IPv4 address written as IPv6
 * (`::ffff:192.0.2.1`) is the IPv4 address.
 */
export function addressOf(request: Request): string | null {
	const address = request.headers.get("CF-Connecting-IP");
	return address === null ? null : addressKey(address);
}

/** The holder an address counts as (see `addressOf`): IPv4 as it is, IPv6 as its /64 (`2001:db8:0:1::/64`). */
export function addressKey(address: string): string {
	const text = address.trim().toLowerCase().replace(/%.*$/, "");
	if (!text.includes(":")) return text;
	const dotted = /:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(text);
	if (dotted && /^(?:0{0,4}:){0,5}(?::|ffff:)/.test(text.slice(0, dotted.index + 1))) return dotted[1] as string;
	const [head = "", tail] = text.split("::");
	const headGroups = head === "" ? [] : head.split(":");
	const tailGroups = tail === undefined || tail === "" ? [] : tail.split(":");
	const groups =
		tail === undefined
			? headGroups
			: [
					...headGroups,
					...Array<string>(Math.max(0, 8 - headGroups.length - tailGroups.length)).fill("0"),
					...tailGroups,
				];
	if (groups.length !== 8 || groups.some((group) => !/^[0-9a-f]{1,4}$/.test(group))) return text;
	return `${groups
		.slice(0, 4)
		.map((group) => Number.parseInt(group, 16).toString(16))
		.join(":")}::/64`;
}

/** Who holds connections: a user in signed mode, a client address in open mode. */
export type Holder = { readonly userId: string } | { readonly address: string };

/** The holder of a connection: its identity in signed mode, its address in open mode (`null`: unknown). */
export function holderOf(identity: Identity | null, address: string | null): Holder | null {
	if (identity) return identity;
	return address === null ? null : { address };
}

/**
 * The one key a holder goes by: `user:ID` or `address:ADDRESS`. A socket is accepted under it as
 * its tag (the Hibernation API's tags), so an object counts one holder's sockets
 * (`getWebSockets(key)`) without keeping a tally of its own (src/shard/shard.ts, limits per user
 * and per address); the room counts the upgrades it admitted that have not arrived yet under it
 * too (src/room/members.ts).
 */
export function holderKey(holder: Holder): string {
	return "userId" in holder ? `user:${holder.userId}` : `address:${holder.address}`;
}
