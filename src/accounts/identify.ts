/**
 * Who an upgrade (or a page asking why its upgrade was refused) is, by every way of getting in
 * that is on (`SIGN_IN`), in this order: the page's session cookie (a passkey account), the
 * assertion Cloudflare Access added, the operator's token; then, if guests may read, a read-only
 * guest. The room gets the `Identity` this finds, exactly as signed mode has always handed it
 * over (src/wire/identity.ts), so rooms learn no second way in. Open mode is nobody in particular
 * (`null`).
 *
 * `cookie`: the identity came from something the browser sends by itself (the session cookie, or
 * the Access cookie behind the assertion), so the socket must be this page's own
 * (src/gate/origin.ts `checkOwnOrigin`): a page of another site must not open a socket as the
 * person whose browser it runs in.
 */
import type { Config } from "../deployment/config.ts";
import { checkToken, tokensOf } from "../gate/token.ts";
import { refuse } from "../wire/http.ts";
import { addressKey, addressOf, type Identity } from "../wire/identity.ts";
import { ACCESS_HEADER, checkAccess } from "./access.ts";
import { checkDisplayName, digest, type Profile } from "./account.ts";
import { sessionOf } from "./session.ts";

export interface Identified {
	readonly identity: Identity | null;
	readonly cookie: boolean;
}

/** Whether an account owns the deployment: the one `OWNER` names, or else the first. */
export function isOwner(profile: Pick<Profile, "handle" | "first">, config: Config): boolean {
	return config.owner === null ? profile.first : profile.handle === config.owner;
}

/** A room's role for an account: the owner moderates everywhere; others, what the owner gave them there, or member. */
export function roleOf(
	profile: Pick<Profile, "handle" | "first">,
	config: Config,
	inRoom: Identity["role"] | null = null,
): Identity["role"] {
	return isOwner(profile, config) ? "moderator" : (inRoom ?? "member");
}

/** Who `request` is, or the refusal. */
export async function identify(
	request: Request,
	env: Env,
	config: Config,
	room: string,
): Promise<Identified | Response> {
	const { signIn } = config;
	if (signIn.open) return { identity: null, cookie: false };

	const session = signIn.passkeys ? sessionOf(request) : null;
	if (session) {
		const person = env.PEOPLE.get(env.PEOPLE.idFromName(session.userId));
		const found = await person.sessionIn(session.token, room, Date.now());
		if (!found) return refuse(401, "signed out: sign in again");
		const { profile, role } = found;
		return {
			identity: { userId: profile.userId, name: profile.displayName, role: roleOf(profile, config, role) },
			cookie: true,
		};
	}

	const assertion = signIn.access ? request.headers.get(ACCESS_HEADER) : null;
	if (signIn.access && assertion) {
		const profile = await accessProfile(assertion, env, signIn.access);
		if (profile instanceof Response) return profile;
		const inRoom = await env.PEOPLE.get(env.PEOPLE.idFromName(profile.userId)).roleIn(room);
		return {
			identity: { userId: profile.userId, name: profile.displayName, role: roleOf(profile, config, inRoom) },
			cookie: true,
		};
	}

	if (signIn.tokens && config.authSecret !== null && (tokensOf(request).length > 0 || config.guests === "none")) {
		const check = await checkToken(request, config.authSecret, room, config);
		return check.ok ? { identity: check.identity, cookie: false } : refuse(check.status, check.reason);
	}

	if (config.guests !== "none") {
		// One guest per address, by a keyed digest of it (other members, who see user ids, cannot
		// work the address back out: the key is the id this deployment's namespace gives a fixed
		// name, which nobody outside it can compute). No account is named `Guest …`.
		const key = env.ROOMS.idFromName("edgechat:guests").toString();
		const tag = (await digest(`${key}:${addressKey(addressOf(request) ?? "unknown")}`)).slice(0, 8);
		const role = config.guests === "post" ? "member" : "readonly";
		return { identity: { userId: `guest:${tag}`, name: `Guest ${tag.slice(0, 4)}`, role }, cookie: false };
	}
	return refuse(401, "sign in to join this room");
}

/** Access subjects this isolate has met, and their user ids (never changes once made). */
const accessUsers = new Map<string, string>();

/**
 * The account of the person a Cloudflare Access assertion vouches for (made the first time:
 * its handle from the email, its display name the email's local part), or the refusal.
 */
export async function accessProfile(
	assertion: string,
	env: Env,
	access: NonNullable<Config["signIn"]["access"]>,
): Promise<Profile | Response> {
	const check = await checkAccess(assertion, access);
	if (!check.ok) return refuse(check.status, check.reason);
	// Known to this isolate: straight to the person's own object, not through the one registry
	// (a room's members reconnecting together after a deploy must not all queue at one object).
	const known = accessUsers.get(check.subject);
	const cached = known ? await env.PEOPLE.get(env.PEOPLE.idFromName(known)).profile() : null;
	if (cached) return cached;
	const registry = env.ACCOUNTS.get(env.ACCOUNTS.idFromName("registry"));
	const account = await registry.accessAccount(check.subject, check.email, Date.now());
	if (!account) return refuse(503, "no handle is free for this account");
	if (accessUsers.size >= 10_000) accessUsers.clear();
	accessUsers.set(check.subject, account.userId);
	const person = env.PEOPLE.get(env.PEOPLE.idFromName(account.userId));
	const kept = await person.profile();
	if (kept) return kept;
	// The first time: the email's local part as display name when it is a name rooms allow (not
	// `API`, not `Guest …`), or the next free one like it; else the handle.
	const fromEmail = checkDisplayName(check.email.split("@")[0]?.slice(0, 32) ?? "");
	const local = fromEmail.ok ? fromEmail.name : account.handle;
	const displayName = (await registry.claimDisplayNameLike(local, account.userId)) ?? account.handle;
	const profile: Profile = { ...account, displayName, kind: "access", createdAt: Date.now() };
	await person.create(profile);
	return profile;
}
