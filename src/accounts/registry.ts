/**
 * The one place that owns what must be unique in the deployment: handles, which account a
 * passkey belongs to, which account a Cloudflare Access identity is, and the one-use things a
 * sign-in needs (a ceremony's challenge, an add-a-passkey link). One object for the whole
 * deployment (`idFromName("registry")`): every write here is small, and it is asked once per
 * ceremony, never per message or per connection (a session is checked by its person's own
 * object: src/accounts/person.ts).
 *
 * Bounded against a script that starts ceremonies and never ends them: expired ones are dropped
 * as new ones come, one address may have `MAX_OPEN_PER_ADDRESS` waiting at once, and past
 * `MAX_OPEN` waiting in all a new one is refused (a few hundred bytes each: about 30 MB at most).
 */
import { DurableObject } from "cloudflare:workers";
import { readsAs } from "../wire/appearance.ts";
import { CEREMONY_MS, INVITE_MS, LINK_MS, newUserId, randomText } from "./account.ts";

/** The most ceremonies and links waiting at once, in all and per address. */
export const MAX_OPEN = 100_000;
export const MAX_OPEN_PER_ADDRESS = 10;

/** What a ceremony is for, and what its options were made with (JSON, the Worker's own). */
export interface Ceremony {
	readonly purpose: "register" | "sign-in" | "add";
	readonly challenge: string;
	readonly data: string;
}

/** What a display name is kept unique by. */
const nameKey = (name: string) => readsAs(name);

export class AccountRegistry extends DurableObject<Env> {
	readonly #sql: SqlStorage;

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		this.#sql = ctx.storage.sql;
		this.#sql.exec(`CREATE TABLE IF NOT EXISTS handles (handle TEXT PRIMARY KEY, user_id TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL);
			CREATE TABLE IF NOT EXISTS credentials (credential_id TEXT PRIMARY KEY, user_id TEXT NOT NULL);
			CREATE TABLE IF NOT EXISTS display_names (key TEXT PRIMARY KEY, user_id TEXT NOT NULL);
			CREATE TABLE IF NOT EXISTS access_subjects (subject TEXT PRIMARY KEY, user_id TEXT NOT NULL);
			CREATE TABLE IF NOT EXISTS ceremonies (id TEXT PRIMARY KEY, purpose TEXT NOT NULL, challenge TEXT NOT NULL, data TEXT NOT NULL, address TEXT NOT NULL, expires_at INTEGER NOT NULL);
			CREATE INDEX IF NOT EXISTS ceremonies_by_address ON ceremonies (address);
			CREATE TABLE IF NOT EXISTS links (code TEXT PRIMARY KEY, kind TEXT NOT NULL, user_id TEXT NOT NULL, expires_at INTEGER NOT NULL);`);
	}

	/** Starts a ceremony for a client address: its id, or `null` when too many wait already (from it, or in all). */
	startCeremony(ceremony: Ceremony, address: string, now: number): string | null {
		this.#sql.exec("DELETE FROM ceremonies WHERE expires_at <= ?", now);
		const fromAddress = this.#sql
			.exec<{ n: number }>("SELECT COUNT(*) AS n FROM ceremonies WHERE address = ?", address)
			.one().n;
		if (fromAddress >= MAX_OPEN_PER_ADDRESS || this.#count("ceremonies") >= MAX_OPEN) return null;
		const id = randomText(18);
		this.#sql.exec(
			"INSERT INTO ceremonies (id, purpose, challenge, data, address, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
			id,
			ceremony.purpose,
			ceremony.challenge,
			ceremony.data,
			address,
			now + CEREMONY_MS,
		);
		return id;
	}

	/** Ends a ceremony: what it was, once (a replayed or expired answer gets `null`). */
	takeCeremony(id: string, purpose: Ceremony["purpose"], now: number): Ceremony | null {
		const row = this.#sql
			.exec<{ purpose: string; challenge: string; data: string; expires_at: number }>(
				"SELECT purpose, challenge, data, expires_at FROM ceremonies WHERE id = ?",
				id,
			)
			.toArray()[0];
		if (!row) return null;
		this.#sql.exec("DELETE FROM ceremonies WHERE id = ?", id);
		if (row.expires_at <= now || row.purpose !== purpose) return null;
		return { purpose, challenge: row.challenge, data: row.data };
	}

	/** Whether any account exists yet (the first may be made without an invite, and owns the deployment). */
	hasAccounts(): boolean {
		return this.#sql.exec("SELECT 1 FROM handles LIMIT 1").toArray().length > 0;
	}

	/** Whether a handle is taken. */
	handleTaken(handle: string): boolean {
		return this.#sql.exec("SELECT 1 FROM handles WHERE handle = ?", handle).toArray().length > 0;
	}

	/**
	 * Claims a handle for a new account: `first` when it is the deployment's first, `taken` when
	 * someone has it. `onlyFirst`: only as the first (an uninvited sign-up where invites are
	 * needed: checked here, where nothing can come between the check and the claim).
	 */
	claimHandle(handle: string, userId: string, now: number, { onlyFirst = false } = {}): "first" | "claimed" | "taken" {
		const first = this.#sql.exec("SELECT 1 FROM handles LIMIT 1").toArray().length === 0;
		if (onlyFirst && !first) return "taken";
		const claimed = this.#sql.exec(
			"INSERT OR IGNORE INTO handles (handle, user_id, created_at) VALUES (?, ?, ?)",
			handle,
			userId,
			now,
		);
		if (claimed.rowsWritten === 0) return "taken";
		return first ? "first" : "claimed";
	}

	/** Gives a handle back (a sign-up that did not finish). */
	releaseHandle(handle: string, userId: string): void {
		this.#sql.exec("DELETE FROM handles WHERE handle = ? AND user_id = ?", handle, userId);
	}

	/**
	 * Claims a display name for an account, as a reader reads it (case, invisible marks and
	 * look-alike letters aside: src/wire/appearance.ts `readsAs`): `false` when another account
	 * has it. So `@Ada Lovelace` in any room is one account, and nobody can show up as someone
	 * else, not even with a Cyrillic А.
	 */
	claimDisplayName(name: string, userId: string): boolean {
		this.#sql.exec("INSERT OR IGNORE INTO display_names (key, user_id) VALUES (?, ?)", nameKey(name), userId);
		return this.#displayNameOwner(name) === userId;
	}

	/** Gives a display name back (after a rename, or a sign-up that did not finish). */
	releaseDisplayName(name: string, userId: string): void {
		this.#sql.exec("DELETE FROM display_names WHERE key = ? AND user_id = ?", nameKey(name), userId);
	}

	/** Whether another account than `userId` has a display name. */
	displayNameTaken(name: string, userId: string | null): boolean {
		const owner = this.#displayNameOwner(name);
		return owner !== null && owner !== userId;
	}

	#displayNameOwner(name: string): string | null {
		return (
			this.#sql.exec<{ user_id: string }>("SELECT user_id FROM display_names WHERE key = ?", nameKey(name)).toArray()[0]
				?.user_id ?? null
		);
	}

	/** The first of `base`, `base 2`, `base 3`, ... free as a display name, claimed for `userId`. */
	claimDisplayNameLike(base: string, userId: string): string | null {
		for (let n = 1; n < 1_000; n++) {
			const name = n === 1 ? base : `${base.slice(0, 58)} ${n}`;
			if (this.claimDisplayName(name, userId)) return name;
		}
		return null;
	}

	/**
	 * Notes that a passkey is an account's, so a sign-in with it finds the account: `false` when
	 * the id is already another's. An attestation of format `none` signs nothing, so a client can
	 * present any credential id it likes: a taken one must be refused, never moved (WebAuthn
	 * says so too), or anyone could point someone else's passkey at their own account.
	 */
	indexCredential(credentialId: string, userId: string): boolean {
		this.#sql.exec("INSERT OR IGNORE INTO credentials (credential_id, user_id) VALUES (?, ?)", credentialId, userId);
		return this.userOfCredential(credentialId) === userId;
	}

	unindexCredential(credentialId: string, userId: string): void {
		this.#sql.exec("DELETE FROM credentials WHERE credential_id = ? AND user_id = ?", credentialId, userId);
	}

	/** The account a passkey is of, if any. */
	userOfCredential(credentialId: string): string | null {
		return (
			this.#sql
				.exec<{ user_id: string }>("SELECT user_id FROM credentials WHERE credential_id = ?", credentialId)
				.toArray()[0]?.user_id ?? null
		);
	}

	/**
	 * The account of a Cloudflare Access identity (its `sub`), made the first time it is seen with
	 * a handle from its email (`ada.lovelace@…` is `ada-lovelace`, then `ada-lovelace-2`, ...;
	 * `null` past a thousand of one name).
	 */
	accessAccount(
		subject: string,
		email: string,
		now: number,
	): { userId: string; handle: string; first: boolean } | null {
		const known = this.#sql
			.exec<{ user_id: string }>("SELECT user_id FROM access_subjects WHERE subject = ?", subject)
			.toArray()[0];
		if (known) {
			const handle = this.#sql
				.exec<{ handle: string }>("SELECT handle FROM handles WHERE user_id = ?", known.user_id)
				.one().handle;
			return { userId: known.user_id, handle, first: false };
		}
		const userId = newUserId();
		const base =
			(email.split("@")[0] ?? "")
				.toLowerCase()
				.replace(/[^a-z0-9_-]+/g, "-")
				.replace(/^[-_]+|[-_]+$/g, "")
				.slice(0, 24) || "member";
		let handle = base.length >= 2 ? base : `${base}-member`;
		let claimed = this.claimHandle(handle, userId, now);
		for (let n = 2; claimed === "taken" && n < 1_000; n++) {
			handle = `${base}-${n}`;
			claimed = this.claimHandle(handle, userId, now);
		}
		if (claimed === "taken") return null;
		this.#sql.exec("INSERT INTO access_subjects (subject, user_id) VALUES (?, ?)", subject, userId);
		return { userId, handle, first: claimed === "first" };
	}

	/**
	 * A one-use link: `add`, for adding a passkey to `userId`'s account from another device
	 * (`LINK_MS`); `invite`, made by `userId` for someone to create an account (`INVITE_MS`).
	 */
	newLink(kind: "add" | "invite", userId: string, now: number): { code: string; expiresAt: number } | null {
		this.#sql.exec("DELETE FROM links WHERE expires_at <= ?", now);
		if (this.#count("links") >= MAX_OPEN) return null;
		const code = randomText(24);
		const expiresAt = now + (kind === "add" ? LINK_MS : INVITE_MS);
		this.#sql.exec(
			"INSERT INTO links (code, kind, user_id, expires_at) VALUES (?, ?, ?, ?)",
			code,
			kind,
			userId,
			expiresAt,
		);
		return { code, expiresAt };
	}

	/** Whose a link of `kind` is while it lasts; `take` uses it up. */
	linkUser(kind: "add" | "invite", code: string, now: number, { take }: { take: boolean }): string | null {
		const row = this.#sql
			.exec<{ user_id: string; expires_at: number }>(
				"SELECT user_id, expires_at FROM links WHERE code = ? AND kind = ?",
				code,
				kind,
			)
			.toArray()[0];
		if (!row || row.expires_at <= now) return null;
		if (take) this.#sql.exec("DELETE FROM links WHERE code = ?", code);
		return row.user_id;
	}

	#count(table: "ceremonies" | "links"): number {
		return this.#sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`).one().n;
	}
}
