import { BANNED_CLOSE_CODE, KICKED_CLOSE_CODE } from "../public/contract.js";
import { identityOf } from "./auth/identity.ts";
import { Bans } from "./bans.ts";
import {
	type Actor,
	addresseeOf,
	type Batch,
	type Delivery,
	deliveriesOf,
	type MemberCounts,
	memberKeyOf,
	type Replay,
	type Staged,
	type Submission,
	shardOf,
} from "./delivery.ts";
import { HubHost } from "./hub-host.ts";
import { logEvent } from "./log-event.ts";
import { MessageLog } from "./message-log.ts";
import { Presence } from "./presence.ts";
import { type ErrorEvent, type LogEntry, TYPING_INTERVAL_MS, WELCOME_MEMBERS } from "./protocol.ts";
import { ShardDirectory } from "./shard/directory.ts";
import { ROOM_HEADER, SHARD_FULL_HEADER, SHARD_HEADER, shardObjectName, USE_SHARD_STATUS } from "./shard/placement.ts";
import type { RoomShard } from "./shard/shard.ts";

/** Room instances created in this isolate so far (each wake from eviction creates one). */
let instancesCreated = 0;

/**
 * The most names whose typing the room passes on per `TYPING_INTERVAL_MS` (PROTOCOL.md): each
 * notice goes to every member, so in a room of 100,000 typing must be thinned room-wide, not
 * only per connection.
 */
const TYPING_NAMES_PER_INTERVAL = 5;

/** How long the room waits before it tries again to reach a shard it could not push to. */
const RETRY_PUSH_MS = 1_000;

/** What `GET /api/rooms/NAME` answers: the room's size (README.md, "The contract"). */
export interface RoomStats {
	/** Connections in the whole room. */
	connections: number;
	/** Names present (each once). */
	members: number;
	/** The newest message id (0 when there is none). */
	latestId: number;
	/** Connections per part of the room: the room's own object first, then shards 1, 2, ... */
	shards: { connections: number }[];
}

/**
 * One chat room. This Durable Object is the room's one authority: it keeps
 *
 * - **the log** (`MessageLog`, src/message-log.ts): the one order of message ids, `clientId`
 *   deduplication, storage in the object's SQLite database, retention, and history;
 * - **presence** (`Presence`, src/presence.ts): who is in the room, wherever they are held;
 * - **the shards** (`ShardDirectory`, src/shard/): how many connections each holds, and whose;
 * - **bans** (`Bans`, src/bans.ts), in signed mode;
 *
 * and holds the first `SHARD_SIZE` connections itself through its hub (src/hub/, shared with
 * the shards through `HubHost`, src/hub-host.ts). A small room is this object alone. Past
 * `SHARD_SIZE` new sockets go to shard objects (src/shard/shard.ts), which send what their
 * clients do here in one call per burst (`submit`) and get the outcome back in one call per
 * burst (`RoomShard.deliver`).
 *
 * Read top to bottom: accept, what clients did (`take`), end of burst (store, then deliver here
 * and push to every shard), inspection.
 */
export class Room extends HubHost {
	/** Which instance of this isolate's rooms this is (for showing eviction from outside). */
	readonly #instance: number;
	/** The room's messages, in order, stored. */
	readonly #log: MessageLog;
	/** Who is in the room, in every part of it. */
	readonly #presence = new Presence();
	/** The room's shards. */
	readonly #shards: ShardDirectory;
	/** Who may not come in, until when. */
	readonly #bans: Bans;
	/** The room's name, once the Worker has said it (kept in storage: shards are named after it). */
	#name: string | undefined;
	/** This burst's work, in the order it came, until the burst ends. */
	#burst: Staged[] = [];
	/** One stub per shard, kept so calls to it arrive in order (E-order); dropped when broken. */
	readonly #shardStubs = new Map<number, DurableObjectStub<RoomShard>>();
	/** Shards a push to failed, waiting for the retry timer. */
	readonly #unreached = new Set<number>();
	/** Names this instance's pushes (`Push.sender`), and the last push number sent to each shard. */
	readonly #sender = crypto.randomUUID();
	readonly #pushSeq = new Map<number, number>();
	/** Names whose typing was passed on in the current typing interval, and when it began. */
	#typists = new Set<string>();
	#typingSince = 0;
	/** Calls between this object and its shards since it was created (for the benchmark). */
	readonly #calls = { submitted: 0, pushed: 0 };

	/** Runs on first use and again each time the object wakes from hibernation or eviction. */
	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		this.#instance = ++instancesCreated;
		this.#log = new MessageLog(ctx.storage, this.config.historyRetention);
		this.#shards = new ShardDirectory(ctx.storage.sql);
		this.#bans = new Bans(ctx.storage.sql);
		this.#name = ctx.storage.kv.get<string>("name");
		const here = this.hub.members();
		for (const [key, name, count] of here) this.#presence.add(key, name, count);
		for (const [key, name, count] of this.#shards.shardMembers()) this.#presence.add(key, name, count);
		this.#forgetLostMembers(here);
	}

	/**
	 * This object's own members are recorded too (as part 0), though its sockets say who they
	 * are: if it was reset, its sockets are gone, and only the record says who left with them.
	 * They leave now, for everyone held by shards (after an eviction nothing has changed).
	 */
	#forgetLostMembers(here: MemberCounts): void {
		const { removed } = this.#shards.replace(0, here);
		for (const [key, name] of removed) {
			if (this.#presence.nameOf(key) === undefined)
				this.#burst.push({ kind: "leave", name, userId: this.#userIdOf(key) });
		}
		this.setEndOfBurst();
	}

	// -- accept ----------------------------------------------------------------------------------

	/**
	 * An upgrade forwarded by the Worker (which has checked the token in signed mode). A banned
	 * user gets 403 and a full room (`MAX_CONNECTIONS` in all its parts) 503. This object takes
	 * the socket itself while it holds fewer than `SHARD_SIZE`; past that it tells the Worker
	 * which shard to send it to (src/shard/placement.ts).
	 */
	override async fetch(request: Request): Promise<Response> {
		const identity = identityOf(request);
		const bannedUntil = identity && this.#bans.bannedUntil(identity.userId, Date.now());
		if (bannedUntil) {
			return new Response(`${bannedReason(bannedUntil)}\n`, { status: 403 });
		}
		if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
			return new Response("expected Upgrade: websocket\n", { status: 426, headers: { Upgrade: "websocket" } });
		}
		const connections = this.hub.size + this.#shards.connections;
		if (connections >= this.config.maxConnections) {
			logEvent("room_full", { connections });
			return new Response(`room is full (${this.config.maxConnections} connections); try again later\n`, {
				status: 503,
				headers: { "Retry-After": "30" },
			});
		}
		this.#rememberName(request);
		if (this.hub.size < this.config.shardSize) return this.upgrade(request, "");
		const full = Number(request.headers.get(SHARD_FULL_HEADER));
		if (full > 0) this.#shards.report(full, this.config.shardSize);
		const shard = this.#shards.place(this.config.shardSize);
		return new Response(null, { status: USE_SHARD_STATUS, headers: { [SHARD_HEADER]: String(shard) } });
	}

	/** The room's name (its shards are named after it), from the Worker's header, kept once. */
	#rememberName(request: Request): void {
		const name = request.headers.get(ROOM_HEADER);
		if (!name || this.#name !== undefined) return;
		this.#name = name;
		this.ctx.storage.kv.put("name", name);
	}

	// -- what clients did ------------------------------------------------------------------------

	/**
	 * A shard's burst (one call per burst, in order: E-order on the shard's stub). Its
	 * submissions join this burst as if this object's own clients had made them.
	 */
	submit(batch: Batch): void {
		this.#calls.submitted++;
		this.#shards.report(batch.shard, batch.connections);
		if (batch.members) {
			// Already recorded for the shard by `replace`: only presence changes.
			const { added, removed } = this.#shards.replace(batch.shard, batch.members);
			for (const [key, name, count] of added) this.#arrive(null, { key, name }, count);
			for (const [key, name, count] of removed) this.#depart(null, { key, name }, count);
		}
		const counted = batch.members !== undefined;
		for (const submission of batch.submissions) this.#takeFrom(batch.shard, submission, counted);
		this.setEndOfBurst();
	}

	/** What one of this object's own clients did. */
	protected override take(submission: Submission): void {
		this.#takeFrom(0, submission, false);
	}

	/**
	 * What a client of part `shard` did joins the burst. `counted`: its arrival or departure is
	 * already in the shard's report of its members.
	 */
	#takeFrom(shard: number, submission: Submission, counted: boolean): void {
		if (this.#stillBanned(submission)) return;
		switch (submission.kind) {
			case "arrive":
				if (!counted) this.#arrive(shard, memberOf(submission), 1);
				break;
			case "hello":
				if (!counted) this.#arrive(shard, memberOf(submission), 1);
				this.#burst.push({
					kind: "welcome",
					to: submission.from,
					name: submission.name,
					userId: submission.userId,
					role: submission.role,
					since: submission.since,
					upTo: this.#log.latestId,
					members: this.#presence.sample(WELCOME_MEMBERS),
					memberCount: this.#presence.size,
				});
				break;
			case "send":
				this.#stage(submission);
				break;
			case "typing":
				if (this.#passesTyping(submission.name)) this.#burst.push(submission);
				break;
			case "frame":
				this.#burst.push({ kind: "frame", frame: submission.frame });
				break;
			case "edit":
			case "delete":
				this.#change(submission);
				break;
			case "kick":
			case "ban":
				this.#remove(submission);
				break;
			case "depart":
				if (!counted) this.#depart(shard, memberOf(submission), 1);
				break;
		}
	}

	/**
	 * Whether what a connection did comes from a user banned meanwhile (a ban reaches every part
	 * of the room, but a push can be lost): then it is dropped and that user's connections are
	 * closed again, the others not told twice. A departure is still counted.
	 */
	#stillBanned(submission: Submission): boolean {
		if (submission.kind === "depart" || submission.kind === "frame" || !("role" in submission)) return false;
		const { userId } = submission;
		const until = userId === null ? null : this.#bans.bannedUntil(userId, Date.now());
		if (userId === null || until === null) return false;
		this.#burst.push({ kind: "remove", userId, code: BANNED_CLOSE_CODE, reason: bannedReason(until), notice: null });
		return true;
	}

	/**
	 * Whether a typing notice from `name` goes on: not if that name's typing went on in this
	 * interval already, nor once `TYPING_NAMES_PER_INTERVAL` names' have.
	 */
	#passesTyping(name: string): boolean {
		const now = Date.now();
		if (now - this.#typingSince >= TYPING_INTERVAL_MS) {
			this.#typingSince = now;
			this.#typists.clear();
		}
		if (this.#typists.has(name) || this.#typists.size >= TYPING_NAMES_PER_INTERVAL) return false;
		this.#typists.add(name);
		return true;
	}

	/**
	 * Connections of a member arrived in part `shard` (0: this object; `null`: already recorded);
	 * a new member is news.
	 */
	#arrive(shard: number | null, { key, name }: Member, count: number): void {
		if (shard !== null) this.#shards.arrive(shard, key, name);
		if (this.#presence.add(key, name, count)) this.#burst.push({ kind: "join", name, userId: this.#userIdOf(key) });
	}

	/** Connections of a member left part `shard`; a member's last one is news. */
	#depart(shard: number | null, { key, name }: Member, count: number): void {
		if (shard !== null) this.#shards.depart(shard, key);
		if (this.#presence.remove(key, count)) this.#burst.push({ kind: "leave", name, userId: this.#userIdOf(key) });
	}

	/** The user a member key stands for: itself in signed mode; none in open mode (a key is a name). */
	#userIdOf(key: string): string | null {
		return this.config.authSecret === null ? null : key;
	}

	/**
	 * Signed mode: an edit or a delete of a message joins the log, if its sender may: only the
	 * author edits; the author or a moderator deletes; a message deleted (or not in the log)
	 * cannot be changed. Otherwise the sender alone is told why.
	 */
	#change(submission: Extract<Submission, { kind: "edit" | "delete" }>): void {
		const { from, id, userId, role, name } = submission;
		const refuse = (error: ErrorEvent) => this.#burst.push({ kind: "error", to: from, error });
		let standing: ReturnType<MessageLog["standing"]>;
		try {
			standing = this.#log.standing(id);
		} catch (error) {
			logEvent("storage_failed", { during: "stage", error: String(error) });
			this.#burst.push({ kind: "unreadable", clientId: null, from });
			return;
		}
		if (!standing || standing.deleted) {
			refuse({ type: "error", code: "not_found", message: `no message ${id} to ${submission.kind} in this room` });
			return;
		}
		const own = standing.userId !== null && standing.userId === userId;
		const allowed = submission.kind === "edit" ? own : own || role === "moderator";
		if (!allowed) {
			const whose = submission.kind === "edit" ? "only its author" : "only its author or a moderator";
			refuse({ type: "error", code: "forbidden", message: `message ${id}: ${whose} may ${submission.kind} it` });
			return;
		}
		const change =
			submission.kind === "edit" ? { kind: "edit" as const, text: submission.text } : { kind: "delete" as const };
		const entry = this.#log.stageChange(change, id, name, userId as string, Date.now());
		this.#burst.push({ kind: "change", entry, from });
	}

	/**
	 * Signed mode: a moderator kicks or bans a user (the hub checked the role). A ban is stored
	 * first, so the user's next upgrade is refused even if this object is evicted right after;
	 * then every part of the room closes that user's connections.
	 */
	#remove(submission: Extract<Submission, { kind: "kick" | "ban" }>): void {
		const { userId, by } = submission;
		const name = this.#presence.nameOf(userId);
		const named = name === undefined ? {} : { name };
		if (submission.kind === "kick") {
			this.#burst.push({
				kind: "remove",
				userId,
				code: KICKED_CLOSE_CODE,
				reason: "kicked by a moderator",
				notice: { type: "removed", userId, ...named, by },
			});
			return;
		}
		const until = Date.now() + submission.seconds * 1000;
		this.#bans.ban(userId, until);
		this.#burst.push({
			kind: "remove",
			userId,
			code: BANNED_CLOSE_CODE,
			reason: bannedReason(until),
			notice: { type: "removed", userId, ...named, by, until },
		});
	}

	/**
	 * A chat message gets its id now and joins the burst. A retried send (its `clientId` known)
	 * is not stored again, whichever part of the room it comes through; the original broadcast
	 * may have been lost with the sender's old connection, so the message is repeated to the
	 * sender, in turn.
	 */
	#stage({ from, name, text, clientId, userId }: Extract<Submission, { kind: "send" }>): void {
		let staged: ReturnType<MessageLog["stage"]>;
		try {
			staged = this.#log.stage(name, text, clientId, Date.now(), userId);
		} catch (error) {
			// Storage could not even be read: the sender is told (it may retry with the same clientId).
			logEvent("storage_failed", { during: "stage", error: String(error) });
			this.#burst.push({ kind: "unreadable", clientId, from });
			return;
		}
		const { message, status } = staged;
		this.#burst.push(
			status === "new"
				? { kind: "new", message, from }
				: { kind: "repeat", message, to: from, staged: status === "staged" },
		);
	}

	// -- end of burst ----------------------------------------------------------------------------

	protected override get hasWork(): boolean {
		return this.#burst.length > 0;
	}

	protected override settle(): void {
		this.#commitBurst();
	}

	protected override endBurst(): void {
		this.#commitBurst();
	}

	/**
	 * Stores the burst's messages in one transaction and hands every part of the room what they
	 * come to, in the order they came: this object's hub now (queued, sent when the burst ends),
	 * each shard in one call. If storage fails, none of them was stored or is shown to anyone:
	 * each sender is refused, and the rest of the burst still goes out. Welcomes get their
	 * history here, all from one query.
	 *
	 * Nobody sees a message before it is stored, here or through a shard: the object's output
	 * gate holds every frame it sends and every call it makes after a storage write until that
	 * write is durable, so a push cannot leave before the commit it carries.
	 */
	#commitBurst(): void {
		if (this.#burst.length === 0) return;
		const burst = this.#burst;
		this.#burst = [];
		const after = this.#log.storedId;
		const welcomes = burst.filter((item) => item.kind === "welcome");
		let oldestWelcome = Number.POSITIVE_INFINITY;
		for (const welcome of welcomes) oldestWelcome = Math.min(oldestWelcome, welcome.upTo);
		let stored = true;
		try {
			// A welcome of this burst is owed the log as it stood at its hello.
			this.#log.commit(oldestWelcome);
		} catch (error) {
			logEvent("storage_failed", { during: "commit", items: burst.length, error: String(error) });
			stored = false;
		}
		let replays: Replay[];
		try {
			replays = this.#log.replayAll(welcomes, this.config.historyReplay);
		} catch (error) {
			// History could not be read: the newcomers are welcomed all the same, told it is missing.
			logEvent("storage_failed", { during: "replay", items: welcomes.length, error: String(error) });
			replays = welcomes.map(({ upTo }) => ({ messages: [], gap: true, latestId: upTo }));
		}
		const deliveries = deliveriesOf(burst, stored, replays);
		this.hub.deliver(deliveries);
		this.#push(after, deliveries);
	}

	/**
	 * Sends each shard holding connections its part of a burst: everything for everyone, and what
	 * is addressed to its own connections (a burst of broadcasts alone, the usual one, goes to
	 * every shard as it is). Not awaited: calls on one stub arrive in order. A failed call breaks
	 * the stub; the shard gets the next push shortly, finds one was lost and recovers
	 * (`RoomShard.deliver`).
	 */
	#push(after: number, deliveries: readonly Delivery[]): void {
		const addressed = deliveries.some((delivery) => addresseeOf(delivery) !== null);
		for (const shard of this.#shards.occupied()) {
			const own = !addressed
				? deliveries
				: deliveries.filter((delivery) => {
						const to = addresseeOf(delivery);
						return to === null || shardOf(to) === shard;
					});
			if (own.length > 0) this.#pushTo(shard, after, own);
		}
	}

	/**
	 * Sends one push. The shard answers with how many connections it holds, which corrects the
	 * room's count (places handed out for upgrades that never arrived included).
	 */
	#pushTo(shard: number, after: number, deliveries: readonly Delivery[]): void {
		const stub = this.#shardStub(shard);
		if (!stub) return;
		this.#calls.pushed++;
		const seq = (this.#pushSeq.get(shard) ?? 0) + 1;
		this.#pushSeq.set(shard, seq);
		stub.deliver({ after, sender: this.#sender, seq, deliveries }).then(
			(connections) => this.#shards.report(shard, connections),
			(error: unknown) => {
				logEvent("shard_unreachable", { shard, error: String(error) });
				this.#shardStubs.delete(shard);
				if (this.#unreached.size === 0) setTimeout(() => this.#retryPushes(), RETRY_PUSH_MS);
				this.#unreached.add(shard);
			},
		);
	}

	/**
	 * Shards a push failed to reach get an empty one: its number tells them one was lost, and
	 * they recover by themselves (`RoomShard.deliver`).
	 */
	#retryPushes(): void {
		const shards = [...this.#unreached];
		this.#unreached.clear();
		const occupied = new Set(this.#shards.occupied());
		for (const shard of shards) if (occupied.has(shard)) this.#pushTo(shard, this.#log.storedId, []);
	}

	#shardStub(shard: number): DurableObjectStub<RoomShard> | null {
		let stub = this.#shardStubs.get(shard);
		if (stub) return stub;
		if (this.#name === undefined) return null;
		stub = this.env.SHARDS.get(this.env.SHARDS.idFromName(shardObjectName(this.#name, shard)));
		this.#shardStubs.set(shard, stub);
		return stub;
	}

	/**
	 * The messages stored after `since` up to `upTo`: a shard that missed a push catches up.
	 * `gap`: some of them are no longer retained.
	 */
	messagesBetween(since: number, upTo: number): { messages: LogEntry[]; gap: boolean } {
		this.#commitBurst();
		return this.#log.between(since, upTo);
	}

	// -- inspection (operators and tests) --------------------------------------------------------

	/** The room's size: `GET /api/rooms/NAME`. */
	stats(): RoomStats {
		const shards = this.#shards.list();
		return {
			connections: this.hub.size + this.#shards.connections,
			members: this.#presence.size,
			latestId: this.#log.storedId,
			shards: [{ connections: this.hub.size }, ...shards.map(({ connections }) => ({ connections }))],
		};
	}

	/**
	 * A number that changes only when the runtime creates the object anew: after the room was
	 * evicted (hibernated), the next call wakes it and gets a new number.
	 */
	instanceNumber(): number {
		return this.#instance;
	}

	/** Calls received from shards (`submit`) and made to them (pushes) since this instance started. */
	shardCalls(): { submitted: number; pushed: number } {
		return { ...this.#calls };
	}

	/** The names present in the whole room, sorted. */
	memberNames(): string[] {
		return this.#presence.sample(Number.POSITIVE_INFINITY);
	}

	/** How many messages the room has stored (the current burst's are stored first). */
	storedMessageCount(): number {
		this.#commitBurst();
		this.setEndOfBurst();
		return this.#log.count();
	}
}

/** A member of presence: its key (src/delivery.ts `memberKeyOf`) and the name it shows. */
interface Member {
	readonly key: string;
	readonly name: string;
}

function memberOf(actor: Actor): Member {
	return { key: memberKeyOf(actor), name: actor.name };
}

/** What a banned user is told, at the door and in the Close (PROTOCOL.md). */
function bannedReason(until: number): string {
	return `banned until ${new Date(until).toISOString()}`;
}
