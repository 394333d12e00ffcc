/**
 * Checking a signed token (PROTOCOL.md, "The token"), in the Worker, once per connection: an
 * HS256 JWT signed with `AUTH_SECRET`, verified with `jose` (a kept library that runs on
 * Workers; hand-rolled JWT checks are where `alg: none` and timing bugs come from), living no
 * longer than `TOKEN_MAX_LIFETIME_SECONDS` and, when `TOKEN_AUDIENCE` is set, meant for this
 * server. Every refusal is a status and one line saying why.
 *
 * Where a client puts its token decides where else it ends up. A URL is written down by most
 * logs and traces a request passes (access logs, proxies, `wrangler tail`), so the client library
 * and the page offer it as a WebSocket subprotocol (a request header), ask why they were refused
 * with `Authorization: Bearer`, and `?token=` stays only for the tutorial's plain clients, which
 * cannot offer a subprotocol: a browser fails a connection whose `101` selects none of its
 * offers, and the room never selects the token.
 */
import { errors, jwtVerify } from "jose";
import { ROLES, TOKEN_CLOCK_TOLERANCE_SECONDS, TOKEN_SUBPROTOCOL_PREFIX } from "../../public/contract.js";
import type { Config } from "../deployment/config.ts";
import type { Identity } from "../wire/identity.ts";
import { MAX_USER_ID_LENGTH } from "../wire/limits.ts";
import { checkName } from "../wire/parse.ts";
import type { Role } from "../wire/protocol.ts";

/** A verified identity, or why not (401: who are you?; 403: you may not). */
export type TokenCheck =
	| { readonly ok: true; readonly identity: Identity }
	| { readonly ok: false; readonly status: 401 | 403; readonly reason: string };

/** What a token must meet besides its signature, from `[vars]`. */
export type TokenRules = Pick<Config, "tokenMaxLifetimeSeconds" | "tokenAudience">;

/** The entries of a `Sec-WebSocket-Protocol` header (a comma-separated list), trimmed. */
function protocolsOf(header: string | null): string[] {
	return header ? header.split(",").map((protocol) => protocol.trim()) : [];
}

const isTokenOffer = (protocol: string) => protocol.startsWith(TOKEN_SUBPROTOCOL_PREFIX);

/**
 * The tokens a request carries, by the first place that has any: offered as subprotocols
 * (`edgechat.token.<jwt>`), an `Authorization: Bearer` header, the `token` query parameter.
 * More than one is the caller's to refuse: which one was meant is not for the server to guess.
 */
export function tokensOf(request: Request): string[] {
	const offered = protocolsOf(request.headers.get("Sec-WebSocket-Protocol")).filter(isTokenOffer);
	if (offered.length > 0) return offered.map((protocol) => protocol.slice(TOKEN_SUBPROTOCOL_PREFIX.length));
	const authorization = request.headers.get("Authorization");
	const bearer = authorization && /^Bearer\s+(\S+)\s*$/i.exec(authorization);
	if (bearer) return [bearer[1] as string];
	const fromQuery = new URL(request.url).searchParams.get("token");
	return fromQuery ? [fromQuery] : [];
}

/**
 * Takes a request's token out of the headers the Worker hands on to the room's objects: they act
 * on the identity the Worker verified and never need the token itself, so it is not copied any
 * further than the Worker (into an object's logs, or a mistake that echoes a header back). The
 * other subprotocol offers stay, `edgechat.v1` among them, for the object to select.
 * (`?token=` stays in the URL the objects get: a client that puts its token in a URL has it
 * written down on the way already, and rewriting the URL would protect nothing more.)
 */
export function withoutToken(headers: Headers): void {
	headers.delete("Authorization");
	const offers = protocolsOf(headers.get("Sec-WebSocket-Protocol"));
	if (!offers.some(isTokenOffer)) return;
	const rest = offers.filter((protocol) => !isTokenOffer(protocol));
	if (rest.length > 0) headers.set("Sec-WebSocket-Protocol", rest.join(", "));
	else headers.delete("Sec-WebSocket-Protocol");
}

const refuse = (status: 401 | 403, reason: string): TokenCheck => ({ ok: false, status, reason });

/** Verifies a request's token for room `room`. */
export async function checkToken(
	request: Request,
	secret: string,
	room: string,
	rules: TokenRules,
): Promise<TokenCheck> {
	const tokens = tokensOf(request);
	if (tokens.length === 0) {
		return refuse(
			401,
			`missing token: offer the subprotocol ${TOKEN_SUBPROTOCOL_PREFIX}<token>, or pass Authorization: Bearer … or ?token=…`,
		);
	}
	if (tokens.length > 1) return refuse(401, `malformed token: ${tokens.length} tokens offered, send one`);
	let payload: Record<string, unknown>;
	try {
		({ payload } = await jwtVerify(tokens[0] as string, new TextEncoder().encode(secret), {
			algorithms: ["HS256"],
			clockTolerance: TOKEN_CLOCK_TOLERANCE_SECONDS,
			requiredClaims: ["exp"],
			...(rules.tokenAudience === null ? {} : { audience: rules.tokenAudience }),
		}));
	} catch (error) {
		return refuse(401, reasonFor(error));
	}
	// A token is a bearer credential that cannot be taken back: one that leaked admits whoever
	// holds it until its `exp`, so how far off that may be is the operator's to bound.
	const max = rules.tokenMaxLifetimeSeconds;
	if (max > 0 && (payload.exp as number) - Date.now() / 1000 > max + TOKEN_CLOCK_TOLERANCE_SECONDS) {
		return refuse(401, `token lives too long: exp is more than ${max} s away`);
	}
	const { sub, name, room: allowed, role } = payload;
	if (typeof sub !== "string" || sub.length === 0 || sub.length > MAX_USER_ID_LENGTH) {
		return refuse(401, `bad claims: sub must be a user id of 1 to ${MAX_USER_ID_LENGTH} characters`);
	}
	const checkedName = checkName(name, { reserveOperatorName: true });
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
		if (error.claim === "aud") {
			return error.reason === "missing"
				? "bad audience: the token has no aud, and this server requires one"
				: "bad audience: the token's aud is not this server's";
		}
		return `bad claims: ${error.message}`;
	}
	if (error instanceof errors.JOSEAlgNotAllowed) return "only HS256 tokens are accepted";
	if (error instanceof errors.JWSSignatureVerificationFailed) return "bad signature";
	return "malformed token";
}
