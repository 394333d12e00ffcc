import { HubHost } from "../hub/host.ts";
import type { WebhookDelivery } from "../webhooks/delivery.ts";
import type { FailedWebhook } from "../webhooks/failed.ts";
import { RoomWebhooks } from "../webhooks/room-webhooks.ts";
import type { DeleteOutcome, MessagePage, MessagesQuery, OperatorPost, PostOutcome } from "../wire/operator.ts";
import { OPERATOR_NAME, type OperatorRemoval, type RemovalOutcome } from "../wire/operator.ts";
import { ROOM_HEADER } from "../wire/placement.ts";
import type { LogEntry } from "../wire/protocol.ts";
import type { Batch, Push, RoomStats, Submission } from "../wire/rpc.ts";
import { Admission } from "./admission.ts";
import { deliveriesOf, type Staged } from "./burst.ts";
import { Conversation } from "./conversation.ts";
import { Intake } from "./intake.ts";
import { Members } from "./members.ts";
import { Moderation } from "./moderation.ts";
import { deleteOutcome, OperatorCalls, postOutcome } from "./operator-calls.ts";
import { RoomName } from "./room-name.ts";
import { ShardDirectory } from "./shard-directory.ts";
import { type ShardCalls, ShardLinks } from "./shard-links.ts";

/** Room instances created in this isolate so far (each wake from eviction creates one). */
let instancesCreated = 0;

/**
 * One chat room. This Durable Object is the room's one authority, over parts that each own one
 * decision (each file's header says what it owns):
 *
 * - admission (src/room/admission.ts): who gets in, and which part of the room holds the socket;
 * - the intake (src/room/intake.ts): what each client's event, or call of the API, comes to;
 * - the conversation (src/room/conversation.ts): what is said, in one order of ids, and kept;
 * - members (src/room/members.ts): who is in the room, and in which part of it;
 * - moderation (src/room/moderation.ts): who may change or remove what, and the bans;
 * - the links to its shards (src/room/shard-links.ts): how a burst's outcome reaches them;
 * - the API's calls (src/room/operator-calls.ts), which join the burst like clients' events;
 * - its webhooks (src/webhooks/room-webhooks.ts): each burst's events recorded in its commit.
 *
 * It holds the first `SHARD_SIZE` connections itself through its hub (src/hub/); past that, new
 * sockets go to shard objects (src/shard/shard.ts), which send what their clients do here in
 * one call per burst (`submit`) and get the outcome back in one call per burst.
 *
 * Read top to bottom: rehydrate, admit, what clients did, what the operator's backend asks, end of
 * burst (commit, deliver here, push to the shards, webhooks), inspection. Closing is src/hub/host.ts's.
 */
export class Room extends HubHost {
	readonly #instance = ++instancesCreated;
	readonly #conversation: Conversation;
	readonly #directory: ShardDirectory;
	readonly #members: Members;
	readonly #moderation: Moderation;
	readonly #admission: Admission;
	readonly #intake: Intake;
	readonly #links: ShardLinks;
	readonly #name: RoomName;
	readonly #calls = new OperatorCalls();
	readonly #webhooks: RoomWebhooks;
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
		this.#webhooks = new RoomWebhooks(ctx.storage, this.config.webhooks ? env.WEBHOOKS : null);
		// Members this object held before a reset leave, for everyone held by shards.
		const signed = this.config.authSecret !== null;
		this.#members = new Members(this.#directory, signed, this.hub.members(), (leave) => this.#burst.push(leave));
		this.#intake = new Intake({
			conversation: this.#conversation,
			members: this.#members,
			moderation: this.#moderation,
		});
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

	/** What a client of part `shard` did joins the burst (src/room/intake.ts decides what it comes to). */
	#takeFrom(shard: number, submission: Submission, counted: boolean): void {
		this.#burst.push(...this.#intake.take(shard, submission, counted, Date.now()));
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
		return postOutcome(await call.outcome);
	}

	/** A page of messages as they stand now (what is committed; a post is answered after its commit). */
	messages(query: MessagesQuery): MessagePage {
		return this.#conversation.messages(query);
	}

	/** A delete through the API (src/room/moderation.ts decides), answered once committed. */
	async deleteMessage(room: string, id: number): Promise<DeleteOutcome> {
		this.#name.learn(room);
		const call = this.#calls.open();
		const step = () => this.#moderation.deleteForOperator(id, call.id, Date.now());
		this.#burst.push(...this.#intake.guard(call.id, null, step));
		this.setEndOfBurst();
		return deleteOutcome(await call.outcome);
	}

	/**
	 * Signed mode: the API kicks or bans a user, as if a moderator named `API` had sent it; its
	 * connections close everywhere at the end of the burst, and the answer comes after its commit.
	 */
	async remove(room: string, removal: OperatorRemoval): Promise<RemovalOutcome> {
		this.#name.learn(room);
		const call = this.#calls.open();
		const actor = { from: call.id, name: OPERATOR_NAME, userId: null, role: "moderator" as const };
		const present = this.#members.nameOf(removal.target) !== undefined;
		const staged = this.#intake.take(0, { ...actor, ...removal }, false, Date.now());
		this.#burst.push(...staged);
		this.setEndOfBurst();
		await call.outcome;
		const notice = staged.find((item) => item.kind === "remove")?.notice;
		return notice?.until === undefined ? { present } : { present, until: notice.until };
	}

	/** Lifts a ban. */
	unban(userId: string): void {
		this.#moderation.unban(userId);
	}

	/** Events the webhook's dead-letter queue hands back (src/webhooks/failed.ts): kept until retried. */
	keepFailedWebhooks(deliveries: WebhookDelivery[]): void {
		this.#webhooks.keepFailed(deliveries);
	}

	/** The oldest failed webhook events, and whether there are more. */
	failedWebhooks(): { failed: FailedWebhook[]; more: boolean } {
		return this.#webhooks.listFailed();
	}

	/** Every failed event goes back to the outbox for a new round; returns how many. */
	retryFailedWebhooks(): number {
		return this.#webhooks.retryFailed();
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
		const record = this.#webhooks.recorder(burst, this.#name.value ?? "", now);
		const answers = this.#conversation.commit(burst, record);
		const deliveries = this.#calls.settle(burst, deliveriesOf(burst, answers, this.config.richMessageCap));
		this.hub.deliver(deliveries);
		this.#links.push(after, deliveries);
		this.#webhooks.afterCommit(now, answers.stored);
	}

	/**
	 * The object's one alarm: liveness (src/hub/host.ts), and the webhook outbox's hand-over of
	 * whatever a reset or a failed hand-off left (it sets the alarm when it needs one sooner).
	 */
	override async alarm(): Promise<void> {
		await super.alarm();
		await this.#webhooks.alarmFired();
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
