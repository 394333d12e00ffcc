/**
 * Checking a signed token (PROTOCOL.md, "The token"), in the Worker, once per connection: an
 * HS256 JWT signed with `AUTH_SECRET`, verified with `jose` (a kept library that runs on
 * Workers; hand-rolled JWT checks are where `alg: none` and timing bugs come from). Every
 * refusal is a status and one line saying why.
 */
import { errors, jwtVerify } from "jose";
import { ROLES, TOKEN_CLOCK_TOLERANCE_SECONDS } from "../../public/contract.js";
import type { Identity } from "../wire/identity.ts";
import { checkName } from "../wire/parse.ts";
import { MAX_USER_ID_LENGTH, type Role } from "../wire/protocol.ts";

/** A verified identity, or why not (401: who are you?; 403: you may not). */
export type TokenCheck =
	| { readonly ok: true; readonly identity: Identity }
	| { readonly ok: false; readonly status: 401 | 403; readonly reason: string };

/** The token of a request: the `token` query parameter, or an `Authorization: Bearer` header. */
export function tokenOf(request: Request): string | null {
	const fromQuery = new URL(request.url).searchParams.get("token");
	if (fromQuery) return fromQuery;
	const authorization = request.headers.get("Authorization");
	const match = authorization && /^Bearer\s+(\S+)\s*$/i.exec(authorization);
	return match ? (match[1] as string) : null;
}

const refuse = (status: 401 | 403, reason: string): TokenCheck => ({ ok: false, status, reason });

/** Verifies a request's token for room `room`. */
export async function checkToken(request: Request, secret: string, room: string): Promise<TokenCheck> {
	const token = tokenOf(request);
	if (!token) return refuse(401, "missing token: pass ?token=… or Authorization: Bearer …");
	let payload: Record<string, unknown>;
	try {
		({ payload } = await jwtVerify(token, new TextEncoder().encode(secret), {
			algorithms: ["HS256"],
			clockTolerance: TOKEN_CLOCK_TOLERANCE_SECONDS,
			requiredClaims: ["exp"],
		}));
	} catch (error) {
		return refuse(401, reasonFor(error));
	}
	const { sub, name, room: allowed, role } = payload;
	if (typeof sub !== "string" || sub.length === 0 || sub.length > MAX_USER_ID_LENGTH) {
		return refuse(401, `bad claims: sub must be a user id of 1 to ${MAX_USER_ID_LENGTH} characters`);
	}
	const checkedName = checkName(name);
	if (!checkedName.ok) return refuse(401, `bad claims: name: ${checkedName.error.message}`);
	if (typeof allowed !== "string" || allowed.length === 0) {
		return refuse(401, 'bad claims: room must be a room name or "*"');
	}
	// No role is a member's: a backend that mints tokens only for its users need not say so.
	if (role !== undefined && (typeof role !== "string" || !(ROLES as readonly string[]).includes(role))) {
		return refuse(401, `bad claims: role must be one of ${ROLES.join(", ")}, or absent (member)`);
	}
	if (allowed !== "*" && allowed !== room) return refuse(403, "token is not for this room");
	return { ok: true, identity: { userId: sub, name: checkedName.name, role: (role as Role | undefined) ?? "member" } };
}

/** What a failed verification comes to, in one line. */
function reasonFor(error: unknown): string {
	if (error instanceof errors.JWTExpired) return "token expired";
	if (error instanceof errors.JWTClaimValidationFailed) {
		if (error.claim === "nbf") return "token not yet valid";
		return `bad claims: ${error.message}`;
	}
	if (error instanceof errors.JOSEAlgNotAllowed) return "only HS256 tokens are accepted";
	if (error instanceof errors.JWSSignatureVerificationFailed) return "bad signature";
	return "malformed token";
}
