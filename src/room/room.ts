import { logEvent } from "../deployment/log-event.ts";
import { HubHost } from "../hub/host.ts";
import type { WebhookDelivery } from "../webhooks/delivery.ts";
import type { LogEntry } from "../wire/log-entries.ts";
import type * as Operator from "../wire/operator.ts";
import { ROOM_HEADER } from "../wire/placement.ts";
import type { Batch, Push, RoomStats, Submission } from "../wire/rpc.ts";
import type { RoomSettings, SettingsPatch } from "../wire/settings.ts";
import { Admission } from "./admission.ts";
import { deliveriesOf, type Staged } from "./burst.ts";
import { Conversation } from "./conversation.ts";
import { Dispatcher } from "./dispatcher.ts";
import type { FailedPage, Requeued } from "./failed-webhooks.ts";
import { HERE, Members, type Source } from "./members.ts";
import { Moderation } from "./moderation.ts";
import { OperatorDesk } from "./operator-desk.ts";
import { RoomPolicies } from "./policies.ts";
import { PresenceNews } from "./presence-news.ts";
import { RoomName } from "./room-name.ts";
import { RoomStore } from "./room-store.ts";
import { RoomWebhooks } from "./room-webhooks.ts";
import { ShardDirectory } from "./shard-directory.ts";
import { type ShardCalls, ShardLinks } from "./shard-links.ts";
import { type WelcomeLimits, welcomeLimitsOf } from "./welcome.ts";

/** Room instances created in this isolate so far (each wake from eviction creates one). */
let instancesCreated = 0;

/**
 * One chat room. This Durable Object is the room's one authority, over parts that each own one
 * decision (each file's header says what it owns):
 *
 * - admission (src/room/admission.ts): who gets in, and which object of the room holds the socket;
 * - the dispatcher (src/room/dispatcher.ts): what each client's event, or call of the API, comes to;
 * - the conversation (src/room/conversation.ts): what is said, in one order of ids, and kept;
 * - members (src/room/members.ts): who is in the room, and in which of its objects; how members hear
 *   of it (src/room/presence-news.ts): each join and leave, or past a size one event a second;
 * - moderation (src/room/moderation.ts): who may change or remove what, and the bans;
 * - the links to its shards (src/room/shard-links.ts): how a burst's outcome reaches them;
 * - the policies (src/room/policies.ts): the room's settings, slow mode, who may post, retention;
 * - the operator's desk (src/room/operator-desk.ts): the HTTP API's calls, joining the burst;
 * - its webhooks (src/room/room-webhooks.ts): each burst's events recorded in its commit.
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
	readonly #store: RoomStore;
	readonly #conversation: Conversation;
	readonly #directory: ShardDirectory;
	readonly #members: Members;
	readonly #moderation: Moderation;
	readonly #admission: Admission;
	readonly #dispatcher: Dispatcher;
	readonly #policies: RoomPolicies;
	readonly #links: ShardLinks;
	/** What every welcome says of the room's limits (from its settings, fixed for the object's life). */
	readonly #welcomeLimits: WelcomeLimits;
	readonly #name: RoomName;
	readonly #desk: OperatorDesk;
	readonly #webhooks: RoomWebhooks;
	readonly #presenceNews: PresenceNews;
	/** This burst's work, in the order it came, until the burst ends. */
	#burst: Staged[] = [];
	/** Whether this instance took a socket (its liveness alarm is storage): give it back once empty. */
	#touched = false;

	// -- rehydrate -------------------------------------------------------------------------------

	/** Runs on first use and again each time the object wakes from hibernation or eviction. */
	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		const store = new RoomStore(ctx.storage);
		this.#store = store;
		this.#name = new RoomName(store);
		this.#conversation = new Conversation(store, this.config, (text) => this.#members.mentionedIn(text));
		const log = this.#conversation.log;
		this.#directory = new ShardDirectory(store, () => this.hub.members());
		this.#moderation = new Moderation(store, log);
		this.#links = new ShardLinks(env, this.config.relayPast, this.#name, this.#directory, () => log.storedId);
		this.#welcomeLimits = welcomeLimitsOf(this.config);
		this.#webhooks = new RoomWebhooks(store, ctx.storage, this.config.webhooks ? env.WEBHOOKS : null);
		// Members this object held before a reset leave, for everyone held by shards.
		const signed = this.config.signed;
		this.#members = new Members(this.#directory, signed, this.hub.members(), (leave) => this.#burst.push(leave));
		this.#presenceNews = new PresenceNews(this.config.presenceLimit, () => this.setEndOfBurst());
		const recount = (shard: number) => this.#links.recount(shard);
		this.#admission = new Admission(this.config, this.#directory, this.#moderation, this.#members, recount);
		this.#policies = new RoomPolicies(store, ctx.storage, this.config);
		const parts = {
			conversation: this.#conversation,
			members: this.#members,
			moderation: this.#moderation,
			policies: this.#policies,
		};
		this.#dispatcher = new Dispatcher(parts);
		const stage = (items: Staged[]) => this.#stage(items);
		this.#desk = new OperatorDesk({ ...parts, dispatcher: this.#dispatcher, name: this.#name, stage });
		this.setEndOfBurst();
	}

	// -- admit -----------------------------------------------------------------------------------

	/**
	 * An upgrade forwarded by the Worker: admitted here, sent to a shard, or refused
	 * (src/room/admission.ts decides). The room's name comes with it, for naming its shards and
	 * its webhook events (learnt in memory: a request that is refused writes nothing).
	 */
	override async fetch(request: Request): Promise<Response> {
		this.#name.learn(request.headers.get(ROOM_HEADER));
		const decision = this.#admission.decide(request, this.hub.size, Date.now());
		if (decision !== "here") return decision;
		this.#touched = true;
		return this.#admission.withView(await this.upgrade(request, ""), Date.now());
	}

	// -- what clients did ------------------------------------------------------------------------

	/**
	 * A shard's burst (one call per burst, in order: E-order on the shard's stub), joining this
	 * one as if this object's own clients had made it. A batch with `members` replaces the room's
	 * record of that shard (it woke from a reset or a failed call). Answers the shard's pace.
	 */
	submit(batch: Batch): number {
		this.#links.calls.submitted++;
		this.#name.learn(batch.room);
		this.#directory.report(batch.shard, batch.connections);
		if (batch.number !== undefined) this.#links.took(batch.shard, batch.number);
		if (batch.members) {
			this.#links.calls.memberLists++;
			this.#burst.push(...this.#members.replace(batch.shard, batch.members));
		}
		const source = { shard: batch.shard, counted: batch.members !== undefined };
		for (const submission of batch.submissions) this.#takeFrom(submission, source);
		this.setEndOfBurst();
		return this.#links.submitPace;
	}

	/** What one of this object's own clients did. */
	protected override take(submission: Submission): void {
		this.#takeFrom(submission, HERE);
	}

	/** What a client did joins the burst (src/room/dispatcher.ts decides what it comes to). */
	#takeFrom(submission: Submission, source: Source): void {
		this.#burst.push(...this.#dispatcher.take(submission, Date.now(), source));
	}

	// -- what the operator's backend asks (the HTTP API, src/api/app.ts) -------------------------

	/** A message posted through the API (src/room/operator-desk.ts does each of the API's calls). */
	post(post: Operator.OperatorPost): Promise<Operator.PostOutcome> {
		return this.#desk.post(post);
	}

	/** A page of messages as they stand now. */
	messages(query: Operator.MessagesQuery): Operator.MessagePage {
		return this.#desk.messages(query);
	}

	/** A delete through the API. */
	deleteMessage(room: string, id: number): Promise<Operator.DeleteOutcome> {
		return this.#desk.deleteMessage(room, id);
	}

	/** Signed mode: a kick or a ban through the API. */
	remove(room: string, removal: Operator.OperatorRemoval): Promise<Operator.RemovalOutcome> {
		return this.#desk.remove(room, removal);
	}

	/** Lifts a ban. */
	unban(userId: string): void {
		this.#moderation.unban(userId);
	}

	/** The room's settings as they stand. */
	settings(): RoomSettings {
		return this.#policies.settings;
	}

	/** A change of the room's settings through the API. */
	changeSettings(room: string, patch: SettingsPatch): Promise<RoomSettings> {
		return this.#desk.changeSettings(room, patch);
	}

	/** Events the webhook's dead-letter queue hands back (src/webhooks/dead-letter.ts, src/room/failed-webhooks.ts): kept until retried. */
	keepFailedWebhooks(deliveries: WebhookDelivery[]): void {
		this.#webhooks.keepFailed(deliveries);
	}

	/** The oldest failed webhook events, whether there are more, and how many were dropped. */
	failedWebhooks(): FailedPage {
		return this.#webhooks.listFailed();
	}

	/** The oldest page of failed events goes back to the outbox for a new round; says how many, and if more wait. */
	retryFailedWebhooks(): Requeued {
		return this.#webhooks.retryFailed();
	}

	// -- end of burst ----------------------------------------------------------------------------

	/** What the API's desk staged joins the burst, which must end even if it staged nothing. */
	#stage(items: Staged[]): void {
		this.#burst.push(...items);
		this.setEndOfBurst();
	}

	protected override get hasWork(): boolean {
		return this.#burst.length > 0 || this.#desk.waiting || this.#presenceNews.due;
	}

	protected override endBurst(): void {
		this.#commitBurst();
		if (this.#touched || this.#store.kept) this.#giveBackIfEmpty();
	}

	/**
	 * A room with nothing left gives its storage back (src/room/room-store.ts): no connection in
	 * any of its objects (nor one a live view could place), nothing in the burst, no message,
	 * setting, ban or webhook event kept. Its liveness alarm goes with it.
	 */
	#giveBackIfEmpty(): void {
		if (this.hub.size > 0 || this.hasWork || this.#directory.connections > 0) return;
		if (!this.#conversation.log.isEmpty || !this.#policies.isDefault) return;
		if (this.#moderation.hasBans || this.#webhooks.holdsEvents || this.#directory.viewUntil > Date.now()) return;
		this.#touched = false;
		this.hub.alarmFired();
		this.#store
			.giveBack()
			.catch((error: unknown) => logEvent("storage_failed", { during: "give_back", error: String(error) }));
	}

	/** This object's own clients are answered within the burst, so a closing one is closed at its end. */
	protected override get answeredBatch(): number {
		return Number.POSITIVE_INFINITY;
	}

	/**
	 * Stores the burst in one transaction and hands every part of the room what it comes to, in
	 * order: this object's hub now, each shard in one call. If storage fails, nothing of it is
	 * stored or shown: each sender is refused. Nobody sees a message before it is stored: the
	 * output gate holds every frame and call made after a storage write until the write is durable.
	 */
	#commitBurst(): void {
		// Past PRESENCE_LIMIT, joins and leaves wait for the interval's `presence` event.
		const now = Date.now();
		this.#burst = this.#presenceNews.route(this.#burst, this.#members.size, now);
		if (this.#burst.length === 0) {
			// An API call that staged nothing (a delete of a message deleted before) is answered now.
			this.#desk.settle([], []);
			return;
		}
		const burst = this.#burst;
		this.#burst = [];
		const after = this.#conversation.log.storedId;
		const record = this.#webhooks.recorder(burst, this.#name.value ?? "", now);
		const answers = this.#conversation.commit(burst, record);
		const deliveries = this.#desk.settle(burst, deliveriesOf(burst, answers, this.#welcomeLimits));
		this.hub.deliver(deliveries);
		this.#links.push(after, deliveries);
		this.#webhooks.afterCommit(now, answers);
	}

	/** The object's one alarm, for whichever part set it: liveness, the webhook outbox, retention by age. */
	override async alarm(): Promise<void> {
		await super.alarm();
		await this.#webhooks.alarmFired();
		const cutoff = this.#policies.retentionCutoff(Date.now());
		if (cutoff !== null) this.#conversation.dropOlderThan(cutoff);
		this.#policies.keepSweeping();
		// An alarm is storage too: a room it finds empty (its sockets gone while it was away) gives it back.
		this.#giveBackIfEmpty();
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

	/** A number that changes only when the runtime creates the object anew (after an eviction). */
	instanceNumber(): number {
		return this.#instance;
	}

	/** Calls received from shards (`submit`) and made to them (pushes) since this instance started. */
	shardCalls(): ShardCalls {
		return { ...this.#links.calls };
	}

	/** Requests (upgrades to place or admit) this instance was sent: what a reconnect storm costs it. */
	requestsSeen(): number {
		return this.#admission.decided;
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
