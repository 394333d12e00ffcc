/**
 * Signed-mode tokens for the tests, minted as a site's backend would (docs/operating.md, "Signed mode"):
 * HS256 with `jose`, the claims of PROTOCOL.md, "The token".
 */
import { SignJWT } from "jose";
import type { Role } from "../../src/wire/protocol.ts";

/** The `AUTH_SECRET` the tests' signed servers run with. */
export const TEST_SECRET = "edgechat-test-secret-0123456789abcdef";

/** A token for user `sub`, shown as `name`, valid for an hour unless `exp` says otherwise. */
export function signToken(claims: {
	sub: string;
	name: string;
	room: string;
	role: Role;
	exp?: number;
}): Promise<string> {
	const { sub, exp, ...rest } = claims;
	return new SignJWT(rest)
		.setProtectedHeader({ alg: "HS256" })
		.setSubject(sub)
		.setExpirationTime(exp ?? "1h")
		.sign(new TextEncoder().encode(TEST_SECRET));
}
