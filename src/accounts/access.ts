/**
 * Cloudflare Access: a chat behind an Access application gets, on every request Access let
 * through, a `Cf-Access-Jwt-Assertion` header: a JWT (RS256) signed by the team's keys, with the
 * application's audience tag as `aud`, the team domain as `iss`, and who it is (`sub`, `email`).
 * The Worker trusts it only once verified with `jose` against the keys the team publishes at
 * `/cdn-cgi/access/certs` (fetched once per isolate and cached by `jose`), the issuer, the
 * audience and the expiry; a request that did not pass through Access has no valid one, so
 * reaching the Worker's hostname directly (a workers.dev URL left on) gains nothing.
 */
import { createRemoteJWKSet, errors, jwtVerify } from "jose";
import type { SignIn } from "../deployment/config.ts";

export const ACCESS_HEADER = "Cf-Access-Jwt-Assertion";

/** The key sets, one per team domain, kept for the isolate's life (jose refreshes them on a new key id). */
const keySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

export type AccessCheck =
	| { ok: true; subject: string; email: string }
	| { ok: false; status: 401 | 403; reason: string };

/** The identity Access vouches for in `assertion`, or why it is refused. */
export async function checkAccess(assertion: string, access: NonNullable<SignIn["access"]>): Promise<AccessCheck> {
	let keys = keySets.get(access.teamDomain);
	if (!keys) {
		keys = createRemoteJWKSet(new URL("/cdn-cgi/access/certs", access.teamDomain));
		keySets.set(access.teamDomain, keys);
	}
	try {
		const { payload } = await jwtVerify(assertion, keys, {
			issuer: access.teamDomain,
			audience: access.aud,
			algorithms: ["RS256"],
		});
		const subject = payload.sub;
		const email = (payload as { email?: unknown }).email;
		if (typeof subject !== "string" || subject === "" || typeof email !== "string") {
			return { ok: false, status: 401, reason: "access assertion has no sub or email" };
		}
		return { ok: true, subject, email };
	} catch (error) {
		if (error instanceof errors.JWTExpired) return { ok: false, status: 401, reason: "access assertion expired" };
		if (error instanceof errors.JWTClaimValidationFailed) {
			return {
				ok: false,
				status: 403,
				reason: `access assertion refused: its ${error.claim} is not this application's`,
			};
		}
		if (error instanceof errors.JWSSignatureVerificationFailed || error instanceof errors.JWKSNoMatchingKey) {
			return { ok: false, status: 403, reason: "access assertion is not signed by this team's keys" };
		}
		return { ok: false, status: 401, reason: "access assertion could not be verified" };
	}
}
