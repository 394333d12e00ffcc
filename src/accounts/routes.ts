/**
 * The page's account requests, under `/auth/`: create an account with a passkey, sign in with
 * one, add one from another device through a one-use link, remove one, see and end sessions.
 * Loaded by the Worker on the first such request (a dynamic `import()`), so a chat socket never
 * evaluates the WebAuthn library.
 *
 * The ceremonies are `@simplewebauthn/server`'s: it checks the browser's answer (the challenge,
 * the origin and relying party, the signature, the counter, the attestation's format) as the
 * WebAuthn specification asks, on WebCrypto, so it runs on Workers as it is; writing that
 * ourselves would be a few thousand lines of CBOR and COSE to get exactly right. Every answer is
 * tied to a challenge this deployment made, used once, within `CEREMONY_MS`
 * (src/accounts/registry.ts), for this page's own origin.
 *
 * Every request that changes something must come from this page (its `Origin` is the request's
 * own: no other site can sign someone in or out), and every request is counted per address by
 * the `AUTH_LIMIT` binding (wrangler.toml) before it costs a signature check.
 */
import {
	generateAuthenticationOptions,
	generateRegistrationOptions,
	verifyAuthenticationResponse,
	verifyRegistrationResponse,
} from "@simplewebauthn/server";
import type { Config } from "../deployment/config.ts";
import { logEvent } from "../deployment/log-event.ts";
import { checkRoomName } from "../gate/name-check.ts";
import { readsAs } from "../wire/appearance.ts";
import { addressKey, addressOf } from "../wire/identity.ts";
import { ACCESS_HEADER } from "./access.ts";
import { checkDisplayName, checkHandle, MAX_PASSKEYS, newUserId, type Profile } from "./account.ts";
import { accessProfile, isOwner } from "./identify.ts";
import type { StoredPasskey } from "./person.ts";
import type { AccountRegistry, Ceremony } from "./registry.ts";
import { CLEARED_COOKIE, type SessionCookie, sessionCookie, sessionOf } from "./session.ts";

/** What a refused request is told: a status and one sentence. */
const fail = (status: number, error: string, headers: Record<string, string> = {}) =>
	Response.json({ error }, { status, headers: { "Cache-Control": "no-store", ...headers } });

const ok = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
	Response.json(body, { status, headers: { "Cache-Control": "no-store", ...headers } });

/** The relying party: this page's host. */
const RP_NAME = "edgechat";

/** A short description of a browser from its User-Agent (`Chrome on Android`), for its owner only. */
export function deviceOf(userAgent: string | null): string {
	const ua = userAgent ?? "";
	const browser = /Edg\//.test(ua)
		? "Edge"
		: /Firefox\//.test(ua)
			? "Firefox"
			: /Chrome\//.test(ua)
				? "Chrome"
				: /Safari\//.test(ua)
					? "Safari"
					: "a browser";
	const system = /Android/.test(ua)
		? "Android"
		: /iPhone|iPad/.test(ua)
			? "iOS"
			: /Mac OS X/.test(ua)
				? "macOS"
				: /Windows/.test(ua)
					? "Windows"
					: /Linux/.test(ua)
						? "Linux"
						: "";
	return system ? `${browser} on ${system}` : browser;
}

/** The account a request's session cookie is, with the cookie, or `null`. */
async function signedIn(request: Request, env: Env): Promise<{ session: SessionCookie; profile: Profile } | null> {
	const session = sessionOf(request);
	if (!session) return null;
	const profile = await personOf(env, session.userId).session(session.token, Date.now());
	return profile ? { session, profile } : null;
}

const personOf = (env: Env, userId: string) => env.PEOPLE.get(env.PEOPLE.idFromName(userId));
const registryOf = (env: Env) => env.ACCOUNTS.get(env.ACCOUNTS.idFromName("registry"));

/**
 * What adding or removing a passkey needs: a session made by a passkey in the last
 * `FRESH_MS`, so that a stolen session cookie alone cannot give its thief an account for good.
 */
const FRESH_MS = 10 * 60_000;
const FRESH_SIGN_IN = "sign in again with a passkey first (this needs a sign-in of the last 10 minutes)";
const freshlySignedIn = async (env: Env, session: SessionCookie) =>
	Date.now() - ((await personOf(env, session.userId).sessionStarted(session.token)) ?? 0) < FRESH_MS;

/** A JSON body of at most 64 KiB, or `null`. */
async function bodyOf(request: Request): Promise<Record<string, unknown> | null> {
	if (!(request.headers.get("Content-Type") ?? "").startsWith("application/json")) return null;
	if (Number(request.headers.get("Content-Length") ?? 0) > 65_536) return null;
	const text = await request.text();
	if (text.length > 65_536) return null;
	try {
		const value = JSON.parse(text) as unknown;
		return value !== null && typeof value === "object" && !Array.isArray(value)
			? (value as Record<string, unknown>)
			: null;
	} catch {
		return null;
	}
}

/** A passkey as its owner sees it. */
const shown = (passkey: StoredPasskey) => ({
	id: passkey.id,
	device: passkey.device,
	createdAt: passkey.createdAt,
	usedAt: passkey.usedAt,
});

/** Handles `/auth/...`. */
export async function handleAuth(request: Request, env: Env, config: Config): Promise<Response> {
	const url = new URL(request.url);
	const path = url.pathname.slice("/auth".length);
	const now = Date.now();
	if (request.method === "GET" && path === "/me") return me(request, env, config);
	if (!config.signIn.passkeys) return fail(404, "passkey accounts are off here (SIGN_IN)");
	if (request.method !== "POST" && request.method !== "DELETE") return fail(405, "use POST", { Allow: "POST" });
	// A change is this page's to ask for: another site's form or script gets nothing.
	if (request.headers.get("Origin") !== url.origin) return fail(403, "this request must come from the chat's own page");
	const limited = await env.AUTH_LIMIT.limit({ key: addressKey(addressOf(request) ?? "unknown") });
	if (!limited.success)
		return fail(429, "too many sign-in requests from this address; try again in a minute", { "Retry-After": "60" });
	const rp = { rpID: url.hostname, origin: url.origin };
	const address = addressKey(addressOf(request) ?? "unknown");
	const registry = registryOf(env);

	switch (path) {
		case "/register/options": {
			if (config.accountCreation === "nobody") return fail(403, "new accounts are not being created here");
			const body = await bodyOf(request);
			// By invitation: an invite link's code, unless this is the deployment's first account.
			const invite =
				config.accountCreation === "invite" &&
				typeof body?.invite === "string" &&
				/^[A-Za-z0-9_-]{32}$/.test(body.invite)
					? body.invite
					: null;
			if (config.accountCreation === "invite" && (await registry.hasAccounts())) {
				if (invite === null || !(await registry.linkUser("invite", invite, now, { take: false }))) {
					return fail(403, "new accounts here need an invite link (ask the owner for one)");
				}
			}
			const handle = checkHandle(body?.handle);
			if (!handle.ok) return fail(400, handle.reason);
			const name = checkDisplayName(body?.displayName);
			if (!name.ok) return fail(400, name.reason);
			if (await registry.handleTaken(handle.handle)) return fail(409, `the handle ${handle.handle} is taken`);
			if (await registry.displayNameTaken(name.name, null)) return fail(409, `the name ${name.name} is taken`);
			const userId = newUserId();
			const options = await creationOptions(rp.rpID, { userId, handle: handle.handle, displayName: name.name }, []);
			const data = JSON.stringify({ userId, handle: handle.handle, displayName: name.name, invite });
			return begin(registry, { purpose: "register", challenge: options.challenge, data }, options, { address, now });
		}
		case "/register": {
			const body = await bodyOf(request);
			const ceremony = await taken(registry, body, "register", now);
			if (!ceremony) return fail(400, "this sign-up has expired or was used already; start again");
			const { userId, handle, displayName, invite } = JSON.parse(ceremony.data) as {
				invite: string | null;
				userId: string;
				handle: string;
				displayName: string;
			};
			const verified = await verifyRegistration(body?.response, ceremony.challenge, rp);
			if (!verified)
				return fail(400, "the passkey's answer could not be verified (another origin, or changed on the way)");
			if (!(await registry.claimDisplayName(displayName, userId))) return fail(409, `the name ${displayName} is taken`);
			// Uninvited where invites are needed: only as the deployment's first account.
			const onlyFirst = config.accountCreation === "invite" && invite === null;
			const first = await registry.claimHandle(handle, userId, now, { onlyFirst });
			if (first === "taken") {
				await registry.releaseDisplayName(displayName, userId);
				return onlyFirst
					? fail(403, "new accounts here need an invite link (ask the owner for one)")
					: fail(409, `the handle ${handle} is taken`);
			}
			// The invite is used up once both names are this account's: two sign-ups cannot share one.
			if (invite !== null && (await registry.linkUser("invite", invite, now, { take: true })) === null) {
				await registry.releaseHandle(handle, userId);
				await registry.releaseDisplayName(displayName, userId);
				return fail(403, "this invite link has expired or was used already");
			}
			const profile: Profile = {
				userId,
				handle,
				displayName,
				kind: "passkey",
				createdAt: now,
				first: first === "first",
			};
			if (!(await registry.indexCredential(verified.id, userId))) {
				await registry.releaseHandle(handle, userId);
				await registry.releaseDisplayName(displayName, userId);
				return fail(409, "this passkey is already another account's");
			}
			const person = personOf(env, userId);
			await person.create(profile);
			await person.addPasskey({ ...verified, createdAt: now, device: deviceOf(request.headers.get("User-Agent")) });
			return signIn(person, profile, request, 201);
		}
		case "/sign-in/options": {
			const options = await generateAuthenticationOptions({ rpID: rp.rpID, userVerification: "preferred" });
			return begin(registry, { purpose: "sign-in", challenge: options.challenge, data: "" }, options, { address, now });
		}
		case "/sign-in": {
			const body = await bodyOf(request);
			const ceremony = await taken(registry, body, "sign-in", now);
			if (!ceremony) return fail(400, "this sign-in has expired or was used already; start again");
			const credentialId = (body?.response as { id?: unknown } | undefined)?.id;
			const userId = typeof credentialId === "string" ? await registry.userOfCredential(credentialId) : null;
			if (!userId) return fail(401, "this passkey is not of any account here");
			const person = personOf(env, userId);
			if (!(await person.mayTry(address, now)))
				return fail(429, "too many failed sign-ins to this account; try again in a minute", { "Retry-After": "60" });
			const passkey = (await person.passkeys()).find((candidate) => candidate.id === credentialId);
			const profile = await person.profile();
			const counter =
				passkey && profile ? await verifyAuthentication(body?.response, ceremony.challenge, rp, passkey) : null;
			if (counter === null || !profile || !passkey) {
				await person.failedSignIn(address, now);
				return fail(401, "the passkey's answer could not be verified");
			}
			await person.usedPasskey(passkey.id, counter, now);
			return signIn(person, profile, request, 200);
		}
		case "/sign-out":
		case "/sign-out-everywhere": {
			const account = await signedIn(request, env);
			if (account) {
				const person = personOf(env, account.session.userId);
				if (path === "/sign-out") await person.endSession(account.session.token);
				else await person.endAllSessions();
			}
			return new Response(null, {
				status: 204,
				headers: { "Set-Cookie": CLEARED_COOKIE, "Cache-Control": "no-store" },
			});
		}
		case "/link": {
			const account = await signedIn(request, env);
			if (!account) return fail(401, "sign in first");
			if (!(await freshlySignedIn(env, account.session))) return fail(403, FRESH_SIGN_IN);
			const link = await registry.newLink("add", account.profile.userId, now);
			if (!link) return fail(503, "too many links are open; try again in a minute", { "Retry-After": "60" });
			// In the fragment: never sent to any server, taken out of the address bar by the page.
			return ok({ url: `${url.origin}/#add-passkey=${link.code}`, expiresAt: link.expiresAt }, 201);
		}
		case "/invite": {
			const account = await signedIn(request, env);
			if (!account) return fail(401, "sign in first");
			if (config.accountCreation !== "invite")
				return fail(409, "anyone may make an account here, or nobody: invites are off (ACCOUNT_CREATION)");
			if (!isOwner(account.profile, config)) return fail(403, "only the owner invites");
			const invite = await registry.newLink("invite", account.profile.userId, now);
			if (!invite) return fail(503, "too many links are open; try again in a minute", { "Retry-After": "60" });
			return ok({ url: `${url.origin}/#invite=${invite.code}`, expiresAt: invite.expiresAt }, 201);
		}
		case "/add/whose": {
			// Which account a link adds a passkey to, for the page to say before anything is made.
			const body = await bodyOf(request);
			const userId =
				typeof body?.code === "string" ? await registry.linkUser("add", body.code, now, { take: false }) : null;
			const profile = userId ? await personOf(env, userId).profile() : null;
			if (!profile) return fail(400, "this link has expired or was used already; make a new one on a signed-in device");
			return ok({ handle: profile.handle });
		}
		case "/add/options": {
			const body = await bodyOf(request);
			const userId =
				typeof body?.code === "string" ? await registry.linkUser("add", body.code, now, { take: false }) : null;
			if (!userId) return fail(400, "this link has expired or was used already; make a new one on a signed-in device");
			const person = personOf(env, userId);
			const [profile, passkeys] = [await person.profile(), await person.passkeys()];
			if (!profile) return fail(400, "this link's account is gone");
			if (passkeys.length >= MAX_PASSKEYS) return fail(409, `an account holds at most ${MAX_PASSKEYS} passkeys`);
			const options = await creationOptions(rp.rpID, profile, passkeys);
			const data = JSON.stringify({ code: body?.code });
			return begin(
				registry,
				{ purpose: "add", challenge: options.challenge, data },
				options,
				{ address, now },
				{
					handle: profile.handle,
				},
			);
		}
		case "/add": {
			const body = await bodyOf(request);
			const ceremony = await taken(registry, body, "add", now);
			if (!ceremony) return fail(400, "this ceremony has expired or was used already; start again");
			const verified = await verifyRegistration(body?.response, ceremony.challenge, rp);
			if (!verified)
				return fail(400, "the passkey's answer could not be verified (another origin, or changed on the way)");
			const { code } = JSON.parse(ceremony.data) as { code: string };
			const userId = await registry.linkUser("add", code, now, { take: true });
			if (!userId) return fail(400, "this link has expired or was used already; make a new one on a signed-in device");
			const person = personOf(env, userId);
			const profile = await person.profile();
			if (!profile) return fail(400, "this link's account is gone");
			if (!(await registry.indexCredential(verified.id, userId))) {
				return fail(409, "this passkey is already another account's");
			}
			const added = await person.addPasskey({
				...verified,
				createdAt: now,
				device: deviceOf(request.headers.get("User-Agent")),
			});
			if (!added) {
				await registry.unindexCredential(verified.id, userId);
				return fail(409, `an account holds at most ${MAX_PASSKEYS} passkeys`);
			}
			return signIn(person, profile, request, 201);
		}
		case "/passkeys/remove": {
			const account = await signedIn(request, env);
			if (!account) return fail(401, "sign in first");
			if (!(await freshlySignedIn(env, account.session))) return fail(403, FRESH_SIGN_IN);
			const body = await bodyOf(request);
			if (typeof body?.id !== "string") return fail(400, "which passkey? (id)");
			const removed = await personOf(env, account.profile.userId).removePasskey(body.id);
			if (removed === "unknown") return fail(404, "no such passkey in this account");
			if (removed === "last") return fail(409, "this is the account's last passkey: add another before removing it");
			await registry.unindexCredential(body.id, account.profile.userId);
			return new Response(null, { status: 204, headers: { "Cache-Control": "no-store" } });
		}
		case "/role": {
			// The owner gives an account a role in one room: from its next connection there.
			const account = await signedIn(request, env);
			if (!account) return fail(401, "sign in first");
			if (!isOwner(account.profile, config)) return fail(403, "only the owner gives roles");
			const body = await bodyOf(request);
			const room = typeof body?.room === "string" ? checkRoomName(body.room) : null;
			if (!room?.ok) return fail(400, room?.reason ?? "which room? (room)");
			const role = body?.role;
			if (role !== "member" && role !== "moderator" && role !== "readonly")
				return fail(400, "role is member, moderator or readonly");
			const userId = typeof body?.userId === "string" && /^u_[A-Za-z0-9_-]{22}$/.test(body.userId) ? body.userId : null;
			const person = userId ? personOf(env, userId) : null;
			if (!person || !(await person.profile())) return fail(404, "no such account");
			if (!(await person.setRole(room.name, role)))
				return fail(409, "this account has roles in too many rooms already");
			return ok({ room: room.name, role });
		}
		case "/person": {
			// Who a user id is (its handle): for a moderator deciding about a member, and anyone signed in.
			if (!(await signedIn(request, env))) return fail(401, "sign in first");
			const body = await bodyOf(request);
			const profile =
				typeof body?.userId === "string" && /^u_[A-Za-z0-9_-]{22}$/.test(body.userId)
					? await personOf(env, body.userId).profile()
					: null;
			if (!profile) return fail(404, "no such account");
			return ok({ handle: profile.handle, displayName: profile.displayName });
		}
		case "/rename": {
			const account = await signedIn(request, env);
			if (!account) return fail(401, "sign in first");
			const name = checkDisplayName((await bodyOf(request))?.displayName);
			if (!name.ok) return fail(400, name.reason);
			const { userId, displayName } = account.profile;
			if (!(await registry.claimDisplayName(name.name, userId))) return fail(409, `the name ${name.name} is taken`);
			const { before, after } = (await personOf(env, userId).rename(name.name)) ?? {};
			// The name it had (read where it is kept, so two renames at once give back both).
			if (before && readsAs(before) !== readsAs(name.name)) await registry.releaseDisplayName(before, userId);
			else if (!before && readsAs(displayName) !== readsAs(name.name))
				await registry.releaseDisplayName(displayName, userId);
			return ok({ account: after });
		}
		default:
			return fail(404, "no such account request");
	}
}

/** What the page asks first: which ways of getting in are on, and who it is signed in as. */
async function me(request: Request, env: Env, config: Config): Promise<Response> {
	const { open, passkeys, access, tokens } = config.signIn;
	const ways = {
		open,
		passkeys,
		access: access !== null,
		tokens,
		guests: config.guests,
		accountCreation: config.accountCreation,
	};
	const account = config.signIn.passkeys ? await signedIn(request, env) : null;
	const assertion = config.signIn.access ? request.headers.get(ACCESS_HEADER) : null;
	if (!account && assertion && config.signIn.access) {
		const profile = await accessProfile(assertion, env, config.signIn.access);
		return profile instanceof Response ? profile : ok({ ways, account: profile });
	}
	if (!account) return ok({ ways, account: null });
	const person = personOf(env, account.profile.userId);
	const [passkeyList, sessions] = [await person.passkeys(), await person.sessions(account.session.token)];
	// The page asks this at every load: the cookie's own lifetime is renewed with the session's.
	return ok(
		{
			ways,
			account: account.profile,
			owner: isOwner(account.profile, config),
			passkeys: passkeyList.map(shown),
			sessions,
		},
		200,
		{ "Set-Cookie": sessionCookie(account.session) },
	);
}

/**
 * The options of a new passkey for an account: discoverable (it can sign in without a handle
 * typed first), no attestation asked (which authenticator it is is not our business), none of
 * the account's passkeys made again on the same authenticator.
 */
function creationOptions(
	rpID: string,
	account: Pick<Profile, "userId" | "handle" | "displayName">,
	existing: readonly StoredPasskey[],
) {
	return generateRegistrationOptions({
		rpName: RP_NAME,
		rpID,
		userName: account.handle,
		userDisplayName: account.displayName,
		userID: new Uint8Array(new TextEncoder().encode(account.userId)),
		attestationType: "none",
		excludeCredentials: existing.map((passkey) => ({ id: passkey.id, transports: passkey.transports })),
		authenticatorSelection: { residentKey: "required", userVerification: "preferred" },
	});
}

/** Starts a ceremony and answers with its options, or 503 when too many are under way. */
async function begin(
	registry: DurableObjectStub<AccountRegistry>,
	ceremony: Ceremony,
	options: unknown,
	{ address, now }: { address: string; now: number },
	extra: Record<string, unknown> = {},
): Promise<Response> {
	const id = await registry.startCeremony(ceremony, address, now);
	if (!id) return fail(503, "too many sign-ins are under way; try again in a minute", { "Retry-After": "60" });
	return ok({ ceremony: id, options, ...extra });
}

/** The ceremony a request's body answers, taken once (`null`: unknown, used, expired or for something else). */
async function taken(
	registry: DurableObjectStub<AccountRegistry>,
	body: Record<string, unknown> | null,
	purpose: Ceremony["purpose"],
	now: number,
): Promise<Ceremony | null> {
	return typeof body?.ceremony === "string" ? registry.takeCeremony(body.ceremony, purpose, now) : null;
}

/** Opens a session for the account and answers with its cookie. */
async function signIn(
	person: DurableObjectStub<import("./person.ts").Person>,
	profile: Profile,
	request: Request,
	status: number,
) {
	const token = await person.openSession(deviceOf(request.headers.get("User-Agent")), Date.now());
	return ok({ account: profile }, status, { "Set-Cookie": sessionCookie({ userId: profile.userId, token }) });
}

/** A registration answer checked against its challenge and this page: the new passkey, or `null`. */
async function verifyRegistration(
	response: unknown,
	challenge: string,
	rp: { rpID: string; origin: string },
): Promise<Omit<StoredPasskey, "createdAt" | "usedAt" | "device"> | null> {
	try {
		const result = await verifyRegistrationResponse({
			response: response as Parameters<typeof verifyRegistrationResponse>[0]["response"],
			expectedChallenge: challenge,
			expectedOrigin: rp.origin,
			expectedRPID: rp.rpID,
			requireUserVerification: false,
		});
		if (!result.verified) return null;
		const { id, publicKey, counter, transports } = result.registrationInfo.credential;
		return { id, publicKey: new Uint8Array(publicKey), counter, transports: transports ?? [] };
	} catch (error) {
		logEvent("sign_in_refused", { ceremony: "register", error: String(error).slice(0, 200) });
		return null;
	}
}

/** A sign-in answer checked against its challenge, this page and the passkey: its new counter, or `null`. */
async function verifyAuthentication(
	response: unknown,
	challenge: string,
	rp: { rpID: string; origin: string },
	passkey: StoredPasskey,
): Promise<number | null> {
	try {
		const result = await verifyAuthenticationResponse({
			response: response as Parameters<typeof verifyAuthenticationResponse>[0]["response"],
			expectedChallenge: challenge,
			expectedOrigin: rp.origin,
			expectedRPID: rp.rpID,
			credential: {
				id: passkey.id,
				publicKey: passkey.publicKey,
				counter: passkey.counter,
				transports: passkey.transports as never,
			},
			requireUserVerification: false,
		});
		return result.verified ? result.authenticationInfo.newCounter : null;
	} catch (error) {
		logEvent("sign_in_refused", { ceremony: "sign-in", error: String(error).slice(0, 200) });
		return null;
	}
}
