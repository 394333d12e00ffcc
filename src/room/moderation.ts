/**
 * Moderation (signed mode, and the HTTP API in either mode): who may change which message, who
 * is removed, and the bans that keep them out. It owns the `bans` (src/room/bans.ts) and decides, for every edit, delete, kick
 * and ban a hub passes on, what the burst gets: a log entry, a removal, or a refusal for the
 * sender alone. The hub has already checked what a connection's token alone tells (read-only,
 * a moderator's role, open mode); whose message is whose is the log's, so it is decided here.
 */
import { bannedReason, closeFor } from "../wire/close-codes.ts";
import { OPERATOR_NAME } from "../wire/operator.ts";
import type { ErrorEvent } from "../wire/protocol.ts";
import type { ConnectionId, Submission } from "../wire/rpc.ts";
import { Bans, MAX_BANS } from "./bans.ts";
import type { Staged } from "./burst.ts";
import type { MessageLog } from "./message-log.ts";
import type { RoomStore } from "./room-store.ts";

/** A change to a message: an edit or a delete. */
type EditOrDelete = Extract<Submission, { kind: "edit" | "delete" }>;
/** A removal of a user: a kick or a ban. */
type Removal = Extract<Submission, { kind: "kick" | "ban" }>;

/** The room's moderation: bans, and the decisions on edits, deletes, kicks and bans. */
export class Moderation {
	readonly #bans: Bans;
	readonly #log: MessageLog;

	/** Opens the room's bans (src/room/bans.ts) and decides against `log`. */
	constructor(store: RoomStore, log: MessageLog) {
		this.#bans = new Bans(store);
		this.#log = log;
	}

	/** Whether the room keeps a ban that may be in force (then it has something worth storing). */
	get hasBans(): boolean {
		return this.#bans.any;
	}

	/** Until when `userId` is banned at `now`, or `null`: a banned user's upgrade is refused (403). */
	bannedUntil(userId: string, now: number): number | null {
		return this.#bans.bannedUntil(userId, now);
	}

	/**
	 * Whether what a connection did comes from a user banned meanwhile (a ban reaches every part
	 * of the room, but a push can be lost): then what it asked is dropped and the returned
	 * removal closes that user's connections again, the others not told twice. Kicks and bans
	 * count too: a banned moderator removes nobody. Departures and plain frames are never
	 * dropped (a departure must still be counted).
	 */
	enforceBan(submission: Submission, now: number): Staged | null {
		// A departure must still be counted; a plain binary frame is the user's like a message is.
		if (submission.kind === "depart") return null;
		const { userId } = submission;
		const until = userId === null ? null : this.#bans.bannedUntil(userId, now);
		if (userId === null || until === null) return null;
		return { kind: "remove", userId, ...closeFor("banned", new Date(until).toISOString()), notice: null };
	}

	/**
	 * An edit or a delete of a message, if its sender may: only the author edits; the author or
	 * a moderator deletes; a message deleted (or not in the log) cannot be changed. Otherwise the
	 * sender alone is told why. An edit is new words, so the room's policies then have their say
	 * (`admit`: who may post, slow mode, a user's allowance; src/room/policies.ts). Throws if the
	 * log cannot be read.
	 */
	change(submission: EditOrDelete, now: number, admit: () => ErrorEvent | null = () => null): Staged {
		const { from, id, userId, role, name } = submission;
		const refuse = (error: ErrorEvent): Staged => ({ kind: "error", to: from, error });
		const standing = this.#log.standing(id);
		if (!standing || standing.deleted) {
			return refuse({
				type: "error",
				code: "not_found",
				message: `no message ${id} to ${submission.kind} in this room`,
			});
		}
		const own = standing.userId !== null && standing.userId === userId;
		const allowed = submission.kind === "edit" ? own : own || role === "moderator";
		if (!allowed) {
			const whose = submission.kind === "edit" ? "only its author" : "only its author or a moderator";
			return refuse({ type: "error", code: "forbidden", message: `message ${id}: ${whose} may ${submission.kind} it` });
		}
		const refusal = submission.kind === "edit" ? admit() : null;
		if (refusal) return refuse(refusal);
		const change =
			submission.kind === "edit" ? { kind: "edit" as const, text: submission.text } : { kind: "delete" as const };
		const entry = this.#log.stageChange(change, id, name, { userId: userId as string }, now);
		return { kind: "change", entry, from };
	}

	/**
	 * A delete through the HTTP API (the operator may delete any message, in either mode), for the
	 * call `from`: the entry, or `not_found` for `from` alone, or `null` when the message was
	 * deleted already (nothing new to write). Throws if the log cannot be read.
	 */
	deleteForOperator(id: number, from: ConnectionId, now: number): Staged | null {
		const standing = this.#log.standing(id);
		if (!standing) {
			return {
				kind: "error",
				to: from,
				error: { type: "error", code: "not_found", message: `no message ${id} in this room` },
			};
		}
		if (standing.deleted) return null;
		return { kind: "change", entry: this.#log.stageChange({ kind: "delete" }, id, OPERATOR_NAME, "api", now), from };
	}

	/** Lifts a ban (the HTTP API); the user's next upgrade is admitted. */
	unban(userId: string): void {
		this.#bans.unban(userId, Date.now());
	}

	/**
	 * A moderator kicks or bans a user. A ban is stored first, so the user's next upgrade is
	 * refused even if the room's object is evicted right after; then every object of the room
	 * closes that user's connections and tells everyone (`targetName`: the name it showed, if
	 * present). A ban past the room's `MAX_BANS` is refused to its sender alone (`too_many_bans`;
	 * the API answers 409), and nobody is removed.
	 */
	remove(submission: Removal, targetName: string | undefined, now: number): Staged {
		const { target: userId, name: by } = submission;
		const named = targetName === undefined ? {} : { name: targetName };
		if (submission.kind === "kick") {
			return { kind: "remove", userId, ...closeFor("kicked"), notice: { type: "removed", userId, ...named, by } };
		}
		const until = now + submission.seconds * 1000;
		if (!this.#bans.ban(userId, until, now)) {
			const message = `this room keeps at most ${MAX_BANS} bans in force: lift one, or wait for one to end`;
			return { kind: "error", to: submission.from, error: { type: "error", code: "too_many_bans", message } };
		}
		return {
			kind: "remove",
			userId,
			code: closeFor("banned").code,
			reason: bannedReason(until),
			notice: { type: "removed", userId, ...named, by, until },
		};
	}
}
