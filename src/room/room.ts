import { HubHost } from "../hub/host.ts";
import { logEvent } from "../log-event.ts";
import { eventsOf } from "../webhooks/events.ts";
import { type FailedWebhook, FailedWebhooks } from "../webhooks/failed.ts";
import { type WebhookDelivery, WebhookOutbox } from "../webhooks/outbox.ts";
import type {
	DeleteOutcome,
	KickOutcome,
	MessagePage,
	MessagesQuery,
	OperatorPost,
	PostOutcome,
} from "../wire/operator.ts";
import { OPERATOR_NAME } from "../wire/operator.ts";
import { ROOM_HEADER } from "../wire/placement.ts";
import { type ChatMessage, type LogEntry, WELCOME_MEMBERS } from "../wire/protocol.ts";
import type { Batch, Push, RoomStats, Submission } from "../wire/rpc.ts";
import { Admission } from "./admission.ts";
import { deliveriesOf, type Staged } from "./burst.ts";
import { Conversation } from "./conversation.ts";
import { Members } from "./members.ts";
import { Moderation } from "./moderation.ts";
import { OperatorCalls } from "./operator-calls.ts";
import { RoomName } from "./room-name.ts";
import { ShardDirectory } from "./shard-directory.ts";
import { type ShardCalls, ShardLinks } from "./shard-links.ts";
import { TypingLimit } from "./typing-limit.ts";

/** Room instances created in this isolate so far (each wake from eviction creates one). */
let instancesCreated = 0;

/**
 * One chat room. This Durable Object is the room's one authority, over parts that each own one
 * decision (each file's header says what it owns):
 *
 * - admission (src/room/admission.ts): who gets in, and which part of the room holds the socket;
 * - the conversation (src/room/conversation.ts: the log, reactions, read positions): what is
 *   said, in the one order of ids, and what is kept of it;
 * - members (src/room/members.ts, over presence and the shard directory): who is in the room,
 *   and in which part of it;
 * - moderation (src/room/moderation.ts): who may change or remove what, and the bans;
 * - the typing limit (src/room/typing-limit.ts), and the welcome (src/room/welcome.ts);
 * - the links to its shards (src/room/shard-links.ts): how a burst's outcome reaches them;
 * - the calls of the operator's backend (src/room/operator-calls.ts), which join the burst like
 *   clients' events, and the webhook outbox (src/webhooks/outbox.ts), which records each burst's
 *   events in its commit and hands them to the webhook queue.
 *
 * It holds the first `SHARD_SIZE` connections itself through its hub (src/hub/); past that, new
 * sockets go to shard objects (src/shard/shard.ts), which send what their clients do here in
 * one call per burst (`submit`) and get the outcome back in one call per burst.
 *
 * Read top to bottom: rehydrate, admit, what clients did (hello, send, ...), what the operator's
 * backend asks, end of burst (commit, deliver here and push to the shards, hand the webhook events
 * on), inspection. Closing is the hub's (src/hub/host.ts).
 */
export class Room extends HubHost {
	readonly #instance = ++instancesCreated;
	readonly #conversation: Conversation;
	readonly #directory: ShardDirectory;
	readonly #members: Members;
	readonly #moderation: Moderation;
	readonly #admission: Admission;
	readonly #typing = new TypingLimit();
	readonly #links: ShardLinks;
	readonly #name: RoomName;
	readonly #calls = new OperatorCalls();
	/** The webhook outbox, when webhooks are on (`WEBHOOK_URL`). */
	readonly #webhooks: WebhookOutbox | null;
	readonly #failedWebhooks: FailedWebhooks;
	/** This burst's work, in the order it came, until the burst ends. */
	#burst: Staged[] = [];

	// -- rehydrate -------------------------------------------------------------------------------

	/** Runs on first use and again each time the object wakes from hibernation or eviction. */
	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		this.#conversation = new Conversation(ctx.storage, this.config, (text) => this.#members.mentionedIn(text));
		const log = this.#conversation.log;
		this.#directory = new ShardDirectory(ctx.storage.sql);
		this.#moderation = new Moderation(ctx.storage.sql, log);
		this.#admission = new Admission(this.config, this.#directory, this.#moderation);
		this.#name = new RoomName(ctx.storage.kv);
		this.#links = new ShardLinks(env.SHARDS, this.#name, this.#directory, () => log.storedId);
		this.#webhooks = this.config.webhooks ? new WebhookOutbox(ctx.storage, env.WEBHOOKS) : null;
		this.#failedWebhooks = new FailedWebhooks(ctx.storage.sql);
		// Members this object held before a reset leave, for everyone held by shards.
		const signed = this.config.authSecret !== null;
		this.#members = new Members(this.#directory, signed, this.hub.members(), (leave) => this.#burst.push(leave));
		this.setEndOfBurst();
	}

	// -- admit -----------------------------------------------------------------------------------

	/**
	 * An upgrade forwarded by the Worker: admitted here, sent to a shard, or refused
	 * (src/room/admission.ts decides). The room's name comes with it, for naming its shards.
	 */
	override async fetch(request: Request): Promise<Response> {
		const decision = this.#admission.decide(request, this.hub.size, Date.now());
		if (decision !== "here") return decision;
		this.#name.learn(request.headers.get(ROOM_HEADER));
		return this.upgrade(request, "");
	}

	// -- what clients did ------------------------------------------------------------------------

	/**
	 * A shard's burst (one call per burst, in order: E-order on the shard's stub). Its
	 * submissions join this burst as if this object's own clients had made them. A batch with
	 * `members` replaces the room's record of that shard (it woke from a reset or a failed call).
	 */
	submit(batch: Batch): void {
		this.#links.calls.submitted++;
		this.#directory.report(batch.shard, batch.connections);
		if (batch.members) {
			this.#links.calls.memberLists++;
			this.#burst.push(...this.#members.replace(batch.shard, batch.members));
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
		const now = Date.now();
		const banned = this.#moderation.enforceBan(submission, now);
		if (banned) {
			this.#burst.push(banned);
			return;
		}
		switch (submission.kind) {
			case "arrive":
				if (!counted) this.#news(this.#members.arrive(shard, submission));
				break;
			case "hello":
				if (!counted) this.#news(this.#members.arrive(shard, submission));
				this.#hello(submission);
				break;
			case "send":
				this.#guard(submission.from, submission.clientId, () => this.#conversation.send(submission, now));
				break;
			case "react":
				this.#guard(submission.from, null, () => this.#conversation.react(submission, now));
				break;
			case "read":
				this.#conversation.read(submission);
				break;
			case "history":
				this.#burst.push({ kind: "history", to: submission.from, request: submission });
				break;
			case "typing":
				if (this.#typing.passes(submission.name, now)) this.#burst.push(submission);
				break;
			case "frame":
				this.#burst.push({ kind: "frame", frame: submission.frame });
				break;
			case "edit":
			case "delete":
				this.#guard(submission.from, null, () => this.#moderation.change(submission, now));
				break;
			case "kick":
			case "ban":
				this.#burst.push(this.#moderation.remove(submission, this.#members.nameOf(submission.target), now));
				break;
			case "depart":
				if (!counted) this.#news(this.#members.depart(shard, submission));
				break;
		}
	}

	/** A rich client joins: its welcome is the room as it stands now, its history added at the commit. */
	#hello({ from, name, userId, role, since }: Extract<Submission, { kind: "hello" }>): void {
		const members = this.#members.sample(WELCOME_MEMBERS);
		const upTo = this.#conversation.log.latestId;
		const request = { name, userId, role, since, upTo, members, memberCount: this.#members.size };
		this.#burst.push({ kind: "welcome", to: from, request });
	}

	/**
	 * Runs a step that reads the log and adds what it returns to the burst; if storage cannot even
	 * be read, the sender is told instead (a send carries its `clientId`, to retry with).
	 */
	#guard(from: string, clientId: string | null, step: () => Staged | null): void {
		try {
			const staged = step();
			if (staged) this.#burst.push(staged);
		} catch (error) {
			logEvent("storage_failed", { during: "stage", error: String(error) });
			this.#burst.push({ kind: "unreadable", clientId, from });
		}
	}

	/** A join or a leave, if presence changed. */
	#news(news: Staged | null): void {
		if (news) this.#burst.push(news);
	}

	// -- what the operator's backend asks (the HTTP API, src/api/app.ts) -------------------------

	/**
	 * A message posted through the API: it joins the burst as a `send` of a call of its own
	 * (src/room/operator-calls.ts), so it is stored and fanned out like a client's, and is answered
	 * once the burst is committed. The same `clientId` again answers the stored message.
	 */
	async post(post: OperatorPost): Promise<PostOutcome> {
		this.#name.learn(post.room);
		const call = this.#calls.open();
		const { name, text, clientId, replyTo } = post;
		const actor = { from: call.id, name, userId: null, role: null };
		this.#takeFrom(0, { kind: "send", ...actor, text, clientId, replyTo, api: true }, false);
		this.setEndOfBurst();
		const delivery = await call.outcome;
		switch (delivery?.kind) {
			case "message":
				return { kind: "stored", message: delivery.message as ChatMessage };
			case "echo":
				return { kind: "repeat", message: delivery.message };
			case "error":
				return { kind: "no_reply_target" };
			default:
				return { kind: "unavailable" };
		}
	}

	/** A page of messages as they stand now (what is committed; a post is answered after its commit). */
	messages(query: MessagesQuery): MessagePage {
		return this.#conversation.messages(query);
	}

	/** A delete through the API (src/room/moderation.ts decides), answered once committed. */
	async deleteMessage(room: string, id: number): Promise<DeleteOutcome> {
		this.#name.learn(room);
		const call = this.#calls.open();
		this.#guard(call.id, null, () => this.#moderation.deleteForOperator(id, call.id, Date.now()));
		this.setEndOfBurst();
		const delivery = await call.outcome;
		if (delivery === null) return { kind: "already" };
		if (delivery.kind === "message") return { kind: "deleted" };
		return { kind: delivery.kind === "error" ? "not_found" : "unavailable" };
	}

	/** Signed mode: the API kicks a user; its connections close everywhere at the end of the burst. */
	async kick(room: string, userId: string): Promise<KickOutcome> {
		const removal = this.#removeForOperator(room, { kind: "kick", target: userId });
		await removal.committed;
		return { present: removal.present };
	}

	/** Signed mode: the API bans a user for `seconds` (stored at once); returns until when (ms since the epoch). */
	async ban(room: string, userId: string, seconds: number): Promise<number> {
		const removal = this.#removeForOperator(room, { kind: "ban", target: userId, seconds });
		await removal.committed;
		return removal.until ?? 0;
	}

	/** Lifts a ban. */
	unban(userId: string): void {
		this.#moderation.unban(userId);
	}

	/** A kick or a ban by the API joins the burst as if a moderator named `API` had sent it. */
	#removeForOperator(
		room: string,
		removal: { kind: "kick"; target: string } | { kind: "ban"; target: string; seconds: number },
	): { present: boolean; until: number | undefined; committed: Promise<unknown> } {
		this.#name.learn(room);
		const call = this.#calls.open();
		const actor = { from: call.id, name: OPERATOR_NAME, userId: null, role: "moderator" as const };
		const targetName = this.#members.nameOf(removal.target);
		const staged = this.#moderation.remove({ ...actor, ...removal }, targetName, Date.now());
		this.#burst.push(staged);
		this.setEndOfBurst();
		const until = staged.kind === "remove" ? staged.notice?.until : undefined;
		return { present: targetName !== undefined, until, committed: call.outcome };
	}

	/** Events the webhook's dead-letter queue hands back (src/webhooks/failed.ts): kept until retried. */
	keepFailedWebhooks(deliveries: WebhookDelivery[]): void {
		this.#failedWebhooks.keep(deliveries, Date.now());
	}

	/** The oldest failed webhook events, and whether there are more. */
	failedWebhooks(): { failed: FailedWebhook[]; more: boolean } {
		return this.#failedWebhooks.list();
	}

	/** Every failed event goes back to the outbox, in one transaction, for a new round; returns how many. */
	retryFailedWebhooks(): number {
		const outbox = this.#webhooks;
		if (!outbox) return 0;
		let requeued = 0;
		this.ctx.storage.transactionSync(() => {
			const failed = this.#failedWebhooks.takeAll();
			outbox.requeue(failed);
			requeued = failed.length;
		});
		outbox.afterCommit(Date.now(), true);
		return requeued;
	}

	// -- end of burst ----------------------------------------------------------------------------

	protected override get hasWork(): boolean {
		return this.#burst.length > 0 || this.#calls.waiting;
	}

	protected override endBurst(): void {
		this.#commitBurst();
	}

	/** This object's own clients are answered within the burst, so a closing one is closed at its end. */
	protected override get answeredBatch(): number {
		return Number.POSITIVE_INFINITY;
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
		if (this.#burst.length === 0) {
			// An API call that staged nothing (a delete of a message deleted before) is answered now.
			this.#calls.settle([], []);
			return;
		}
		const burst = this.#burst;
		this.#burst = [];
		const after = this.#conversation.log.storedId;
		const now = Date.now();
		const outbox = this.#webhooks;
		const events = outbox ? eventsOf(burst, this.#name.value ?? "") : [];
		const record = outbox && events.length > 0 ? () => outbox.record(events, now) : null;
		const answers = this.#conversation.commit(burst, record);
		const deliveries = this.#calls.settle(burst, deliveriesOf(burst, answers, this.config.richMessageCap));
		this.hub.deliver(deliveries);
		this.#links.push(after, deliveries);
		outbox?.afterCommit(now, answers.stored);
	}

	/**
	 * The object's one alarm: liveness (src/hub/host.ts), and the webhook outbox's hand-over of
	 * whatever a reset or a failed hand-off left (it sets the alarm when it needs one sooner).
	 */
	override async alarm(): Promise<void> {
		await super.alarm();
		await this.#webhooks?.alarmFired();
	}

	// -- what shards ask -------------------------------------------------------------------------

	/**
	 * The messages stored after `since` up to `upTo`: a shard that missed a push from an earlier
	 * instance of this object catches up. `gap`: some of them are no longer retained.
	 */
	messagesBetween(since: number, upTo: number): { messages: LogEntry[]; gap: boolean } {
		this.#commitBurst();
		return this.#conversation.between(since, upTo);
	}

	/** The pushes to `shard` after its push `seq` from instance `sender`, if still kept (src/room/shard-links.ts). */
	missedPushes(shard: number, sender: string, seq: number): Push[] | null {
		return this.#links.missedPushes(shard, sender, seq);
	}

	// -- inspection (operators and tests) --------------------------------------------------------

	/** The room's size: `GET /api/rooms/NAME`. */
	stats(): RoomStats {
		return {
			connections: this.hub.size + this.#directory.connections,
			members: this.#members.size,
			latestId: this.#conversation.log.storedId,
			shards: [{ connections: this.hub.size }, ...this.#directory.list().map(({ connections }) => ({ connections }))],
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
	shardCalls(): ShardCalls {
		return { ...this.#links.calls };
	}

	/** The names present in the whole room, sorted. */
	memberNames(): string[] {
		return this.#members.sample(Number.POSITIVE_INFINITY);
	}

	/** How many messages the room has stored (the current burst's are stored first). */
	storedMessageCount(): number {
		this.#commitBurst();
		this.setEndOfBurst();
		return this.#conversation.log.count();
	}
}
