/**
 * One person's own object (`idFromName(userId)`): their account's profile, passkeys and
 * sessions. A session is checked here once per connection (the Worker asks before an upgrade),
 * so signing out, or out everywhere, takes effect at the next connection of every device; and a
 * sign-in that keeps failing is refused here, per account, whoever tries.
 *
 * A session token is 32 random bytes the browser keeps in an `HttpOnly` cookie; only its SHA-256
 * is stored, so what this object holds cannot be replayed as a session.
 */
import { DurableObject } from "cloudflare:workers";
import type { Role } from "../wire/protocol.ts";
import {
	digest,
	FAILED_SIGN_INS_PER_MINUTE,
	MAX_PASSKEYS,
	MAX_SESSIONS,
	type Profile,
	randomText,
	SESSION_IDLE_MS,
} from "./account.ts";

/** A passkey as stored: what verifying a sign-in with it needs, and what its owner sees. */
export interface StoredPasskey {
	readonly id: string;
	readonly publicKey: Uint8Array<ArrayBuffer>;
	readonly counter: number;
	readonly transports: string[];
	readonly createdAt: number;
	readonly usedAt: number;
	/** Where it was made, as its browser said (`Chrome on Android`), for its owner to tell them apart. */
	readonly device: string;
}

/** A session as its owner sees it (never its token). */
export interface SessionInfo {
	readonly id: string;
	readonly createdAt: number;
	readonly seenAt: number;
	readonly device: string;
	readonly current: boolean;
}

/** The most rooms an account holds a role of its own in. */
const MAX_ROLES = 1_000;

/** How often a session's last use is written (a page reconnects often; a day is close enough). */
const SEEN_EVERY_MS = 24 * 3_600_000;

export class Person extends DurableObject<Env> {
	readonly #sql: SqlStorage;
	readonly #kv: SyncKvStorage;
	/** When sign-ins failed in the last minute, by client address (memory only: an eviction forgives). */
	#failures = new Map<string, number[]>();
	/** Whether this instance has made sure its tables exist. */
	#tables = false;

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		this.#sql = ctx.storage.sql;
		this.#kv = ctx.storage.kv;
	}

	/**
	 * The tables, made on first need only: an object asked about an account that does not exist
	 * (a made-up session cookie) writes nothing, so made-up ids cost no storage.
	 */
	#sqlOf(): SqlStorage {
		if (this.#tables) return this.#sql;
		this.#tables = true;
		this.#sql.exec(`CREATE TABLE IF NOT EXISTS passkeys (id TEXT PRIMARY KEY, public_key BLOB NOT NULL, counter INTEGER NOT NULL, transports TEXT NOT NULL, created_at INTEGER NOT NULL, used_at INTEGER NOT NULL, device TEXT NOT NULL);
			CREATE TABLE IF NOT EXISTS sessions (hash TEXT PRIMARY KEY, id TEXT NOT NULL, created_at INTEGER NOT NULL, seen_at INTEGER NOT NULL, device TEXT NOT NULL);
			CREATE TABLE IF NOT EXISTS roles (room TEXT PRIMARY KEY, role TEXT NOT NULL);`);
		return this.#sql;
	}

	/** Makes the account (once; a second call with the same id changes nothing). */
	create(profile: Profile): void {
		if (this.#kv.get("profile") === undefined) this.#kv.put("profile", profile);
	}

	profile(): Profile | null {
		return this.#kv.get<Profile>("profile") ?? null;
	}

	/** Changes the display name (already checked and claimed by the Worker): the name before, and the profile after. */
	rename(displayName: string): { before: string; after: Profile } | null {
		const profile = this.profile();
		if (!profile) return null;
		const renamed = { ...profile, displayName };
		this.#kv.put("profile", renamed);
		return { before: profile.displayName, after: renamed };
	}

	// -- roles in rooms ----------------------------------------------------------------------------

	/** The role the owner gave this account in `room`, if any (`member` otherwise, the owner's aside). */
	roleIn(room: string): Role | null {
		return this.#sqlOf().exec<{ role: Role }>("SELECT role FROM roles WHERE room = ?", room).toArray()[0]?.role ?? null;
	}

	/** Gives the account a role in `room` (`member`: none of its own). At most `MAX_ROLES` rooms. */
	setRole(room: string, role: Role): boolean {
		if (role === "member") {
			this.#sqlOf().exec("DELETE FROM roles WHERE room = ?", room);
			return true;
		}
		const held = this.#sqlOf().exec<{ n: number }>("SELECT COUNT(*) AS n FROM roles WHERE room != ?", room).one().n;
		if (held >= MAX_ROLES) return false;
		this.#sqlOf().exec("INSERT OR REPLACE INTO roles (room, role) VALUES (?, ?)", room, role);
		return true;
	}

	// -- passkeys --------------------------------------------------------------------------------

	/** Adds a passkey; `false` when the account has `MAX_PASSKEYS` already. */
	addPasskey(passkey: Omit<StoredPasskey, "usedAt">): boolean {
		if (this.passkeys().length >= MAX_PASSKEYS) return false;
		this.#sqlOf().exec(
			"INSERT OR REPLACE INTO passkeys (id, public_key, counter, transports, created_at, used_at, device) VALUES (?, ?, ?, ?, ?, ?, ?)",
			passkey.id,
			passkey.publicKey,
			passkey.counter,
			JSON.stringify(passkey.transports),
			passkey.createdAt,
			passkey.createdAt,
			passkey.device,
		);
		return true;
	}

	passkeys(): StoredPasskey[] {
		return this.#sqlOf()
			.exec<{
				id: string;
				public_key: ArrayBuffer;
				counter: number;
				transports: string;
				created_at: number;
				used_at: number;
				device: string;
			}>("SELECT * FROM passkeys ORDER BY created_at")
			.toArray()
			.map((row) => ({
				id: row.id,
				publicKey: new Uint8Array(row.public_key),
				counter: row.counter,
				transports: JSON.parse(row.transports) as string[],
				createdAt: row.created_at,
				usedAt: row.used_at,
				device: row.device,
			}));
	}

	/** A sign-in with a passkey succeeded: its counter and when it was used. */
	usedPasskey(id: string, counter: number, now: number): void {
		this.#sqlOf().exec("UPDATE passkeys SET counter = ?, used_at = ? WHERE id = ?", counter, now, id);
	}

	/** Removes a passkey, never the last one (an account with none could not be signed in to again). */
	removePasskey(id: string): "removed" | "last" | "unknown" {
		const all = this.passkeys();
		if (!all.some((passkey) => passkey.id === id)) return "unknown";
		if (all.length === 1) return "last";
		this.#sqlOf().exec("DELETE FROM passkeys WHERE id = ?", id);
		return "removed";
	}

	// -- sign-in failures ----------------------------------------------------------------------

	/**
	 * Whether a sign-in from `address` may be tried now: not past `FAILED_SIGN_INS_PER_MINUTE`
	 * failures from it in the last minute (per address too, so that nobody can keep an account's
	 * owner out by failing on purpose from elsewhere).
	 */
	mayTry(address: string, now: number): boolean {
		const recent = (this.#failures.get(address) ?? []).filter((at) => now - at < 60_000);
		if (recent.length === 0) this.#failures.delete(address);
		else this.#failures.set(address, recent);
		return recent.length < FAILED_SIGN_INS_PER_MINUTE;
	}

	failedSignIn(address: string, now: number): void {
		if (this.#failures.size > 10_000) this.#failures.clear();
		this.#failures.set(address, [...(this.#failures.get(address) ?? []), now]);
	}

	/** When the session of `token` was made (by a passkey), or `null`. */
	async sessionStarted(token: string): Promise<number | null> {
		if (!this.profile()) return null;
		return (
			this.#sqlOf()
				.exec<{ created_at: number }>("SELECT created_at FROM sessions WHERE hash = ?", await digest(token))
				.toArray()[0]?.created_at ?? null
		);
	}

	// -- sessions --------------------------------------------------------------------------------

	/** A new session: the token for its cookie (the oldest session ends past `MAX_SESSIONS`). */
	async openSession(device: string, now: number): Promise<string> {
		const token = randomText(32);
		this.#sqlOf().exec(
			"INSERT INTO sessions (hash, id, created_at, seen_at, device) VALUES (?, ?, ?, ?, ?)",
			await digest(token),
			randomText(9),
			now,
			now,
			device.slice(0, 100),
		);
		this.#sqlOf().exec(
			"DELETE FROM sessions WHERE hash NOT IN (SELECT hash FROM sessions ORDER BY seen_at DESC LIMIT ?)",
			MAX_SESSIONS,
		);
		return token;
	}

	/** Who a session token is, and its role in `room`: one call per connection. */
	async sessionIn(token: string, room: string, now: number): Promise<{ profile: Profile; role: Role | null } | null> {
		const profile = await this.session(token, now);
		return profile ? { profile, role: this.roleIn(room) } : null;
	}

	/** Who a session token is (renewing its last use), or `null`: unknown, ended or idle too long. */
	async session(token: string, now: number): Promise<Profile | null> {
		if (!this.profile()) return null;
		const hash = await digest(token);
		const row = this.#sqlOf()
			.exec<{ seen_at: number }>("SELECT seen_at FROM sessions WHERE hash = ?", hash)
			.toArray()[0];
		if (!row) return null;
		if (now - row.seen_at > SESSION_IDLE_MS) {
			this.#sqlOf().exec("DELETE FROM sessions WHERE hash = ?", hash);
			return null;
		}
		if (now - row.seen_at > SEEN_EVERY_MS)
			this.#sqlOf().exec("UPDATE sessions SET seen_at = ? WHERE hash = ?", now, hash);
		return this.profile();
	}

	/** The account's sessions, the one of `token` marked. */
	async sessions(token: string): Promise<SessionInfo[]> {
		const hash = await digest(token);
		return this.#sqlOf()
			.exec<{ hash: string; id: string; created_at: number; seen_at: number; device: string }>(
				"SELECT * FROM sessions ORDER BY seen_at DESC",
			)
			.toArray()
			.map((row) => ({
				id: row.id,
				createdAt: row.created_at,
				seenAt: row.seen_at,
				device: row.device,
				current: row.hash === hash,
			}));
	}

	/** Ends the session of `token` (signing out). */
	async endSession(token: string): Promise<void> {
		this.#sqlOf().exec("DELETE FROM sessions WHERE hash = ?", await digest(token));
	}

	/** Ends every session (signing out everywhere). */
	endAllSessions(): void {
		this.#sqlOf().exec("DELETE FROM sessions");
	}
}
