/** Tokens for the signed-mode tests, minted as a site's backend would (jose, HS256). */
import { env } from "cloudflare:workers";
import { SignJWT } from "jose";
import type { Role } from "../../../src/wire/protocol.ts";
import { connectRich, type RichClient } from "../sockets.ts";

/** The secret the workerd-auth project runs with (vitest.config.ts). */
export const SECRET = (env as unknown as { AUTH_SECRET: string }).AUTH_SECRET;

export interface Claims {
	sub?: string;
	name?: string;
	room?: string;
	role?: Role | string;
	/** Seconds from now (negative: in the past). */
	expiresIn?: number;
	/** Seconds from now until it becomes valid. */
	notBefore?: number;
	/** The audience (`aud`), absent unless given. */
	aud?: string | string[];
}

/** A signed token for `room` (default claims: a member called after its `sub`, valid for an hour). */
export function tokenFor(room: string, claims: Claims = {}, secret = SECRET): Promise<string> {
	const now = Math.floor(Date.now() / 1000);
	const sub = claims.sub ?? "u-ann";
	const jwt = new SignJWT({
		name: claims.name ?? sub.replace(/^u-/, ""),
		room: claims.room ?? room,
		role: claims.role ?? "member",
	})
		.setProtectedHeader({ alg: "HS256" })
		.setSubject(sub)
		.setExpirationTime(now + (claims.expiresIn ?? 3600));
	if (claims.notBefore !== undefined) jwt.setNotBefore(now + claims.notBefore);
	if (claims.aud !== undefined) jwt.setAudience(claims.aud);
	return jwt.sign(new TextEncoder().encode(secret));
}

/** An unsigned token (`alg: none`), as an attacker would forge it. */
export function unsignedToken(room: string): string {
	const encode = (value: object) =>
		btoa(JSON.stringify(value)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
	const exp = Math.floor(Date.now() / 1000) + 3600;
	return `${encode({ alg: "none", typ: "JWT" })}.${encode({ sub: "u-eve", name: "eve", room, role: "moderator", exp })}.`;
}

/**
 * A rich client signed in as `sub` with `role` (its name is its token's, after its `sub` unless
 * `name` is given; the hello's is ignored in signed mode), resuming after `since` when given.
 */
export async function signedIn(
	room: string,
	sub: string,
	role: Role = "member",
	{ since, name }: { since?: number; name?: string } = {},
): Promise<RichClient> {
	const claims = name === undefined ? { sub, role } : { sub, role, name };
	return connectRich(room, "ignored", since, await tokenFor(room, claims));
}
