/**
 * The room's desk for the operator's backend (the HTTP API, src/api/app.ts): what each call asks
 * of the room, and the calls waiting for their answer.
 *
 * A call acts in the room like a connection that is not there: it gets an id of its own, what it
 * asks joins the burst as a `Submission` from that id, in order with everything else, goes
 * through the same dispatcher (src/room/dispatcher.ts), and is answered once the burst has been
 * committed, with the delivery its submission came to (the stored message, a refusal). So a
 * message posted through the API is stored, ordered and fanned out by the same path as a
 * client's, and the API's answer never comes before the commit does. The room's object keeps the
 * RPC methods the Worker calls, each handing over to this desk, and settles the calls at every
 * commit (`settle`); deliveries addressed to a call never reach a hub.
 */
import type { ChatMessage } from "../wire/log-entries.ts";
import {
	type DeleteOutcome,
	type MessagePage,
	type MessagesQuery,
	OPERATOR_NAME,
	type OperatorPost,
	type OperatorRemoval,
	type PostOutcome,
	type RemovalOutcome,
} from "../wire/operator.ts";
import type { ConnectionId, Delivery } from "../wire/rpc.ts";
import type { RoomSettings, SettingsPatch } from "../wire/settings.ts";
import type { Staged } from "./burst.ts";
import type { Conversation } from "./conversation.ts";
import type { Dispatcher } from "./dispatcher.ts";
import type { Members } from "./members.ts";
import type { Moderation } from "./moderation.ts";
import type { RoomPolicies } from "./policies.ts";
import type { RoomName } from "./room-name.ts";

/** The parts of the room the desk asks, and where what a call stages goes (the room's burst). */
export interface DeskParts {
	readonly conversation: Conversation;
	readonly members: Members;
	readonly moderation: Moderation;
	readonly dispatcher: Dispatcher;
	readonly policies: RoomPolicies;
	readonly name: RoomName;
	/** Adds to the room's current burst and makes sure it ends. */
	readonly stage: (items: Staged[]) => void;
}

/** The API's calls to one room. */
export class OperatorDesk {
	readonly #parts: DeskParts;
	readonly #calls = new OperatorCalls();

	constructor(parts: DeskParts) {
		this.#parts = parts;
	}

	/** Whether a call waits for the burst's commit (the burst must end even if it holds nothing else). */
	get waiting(): boolean {
		return this.#calls.waiting;
	}

	/** A burst was committed: each call of it is answered; the deliveries for hubs are returned. */
	settle(burst: readonly Staged[], deliveries: Delivery[]): Delivery[] {
		return this.#calls.settle(burst, deliveries);
	}

	/** A message posted through the API, stored and fanned out like a client's; its `clientId` makes it once only. */
	async post({ room, name, text, clientId, replyTo }: OperatorPost): Promise<PostOutcome> {
		const [outcome] = await this.#call(room, (from, now) => {
			const send = { kind: "send", from, name, userId: null, role: null, text, clientId, replyTo, api: true } as const;
			return this.#parts.dispatcher.take(send, now);
		});
		return postOutcome(outcome);
	}

	/** A page of messages as they stand now (what is committed; a post is answered after its commit). */
	messages(query: MessagesQuery): MessagePage {
		return this.#parts.conversation.messages(query);
	}

	/** A delete through the API (src/room/moderation.ts decides). */
	async deleteMessage(room: string, id: number): Promise<DeleteOutcome> {
		const { dispatcher, moderation } = this.#parts;
		const [outcome] = await this.#call(room, (from, now) =>
			dispatcher.guard(from, null, () => moderation.deleteForOperator(id, from, now)),
		);
		return deleteOutcome(outcome);
	}

	/** Signed mode: the API kicks or bans a user, as a moderator named `API`; its connections close everywhere. */
	async remove(room: string, removal: OperatorRemoval): Promise<RemovalOutcome> {
		const present = this.#parts.members.nameOf(removal.target) !== undefined;
		const [answer, staged] = await this.#call(room, (from, now) =>
			this.#parts.dispatcher.take({ ...operatorActor(from), ...removal }, now),
		);
		if (answer?.kind === "error") return { present, refused: answer.error.message };
		const notice = staged.find((item) => item.kind === "remove")?.notice;
		return notice?.until === undefined ? { present } : { present, until: notice.until };
	}

	/** The API changes the room's settings (announced to everyone, as by a moderator named `API`). */
	async changeSettings(room: string, patch: SettingsPatch): Promise<RoomSettings> {
		await this.#call(room, (from, now) =>
			this.#parts.dispatcher.take({ kind: "settings", ...operatorActor(from), patch }, now),
		);
		return this.#parts.policies.settings;
	}

	/**
	 * One call: what `stage` returns joins the burst under the call's id, and the answer is the
	 * delivery it came to once committed (a stored message, a refusal; `null`: none for it alone),
	 * with what it staged.
	 */
	async #call(room: string, stage: (from: string, now: number) => Staged[]): Promise<[Delivery | null, Staged[]]> {
		this.#parts.name.learn(room);
		const call = this.#calls.open();
		const staged = stage(call.id, Date.now());
		this.#parts.stage(staged);
		return [await call.outcome, staged];
	}
}

/** The id prefix of calls: no client's connection id has it (those are UUIDs, or `N/` and a UUID). */
const CALL_PREFIX = "operator:";

/** Whom a staged item is from, or for, when it names one connection. */
function addresseeOfStaged(item: Staged): ConnectionId | null {
	if ("from" in item && (item.kind === "new" || item.kind === "unreadable" || item.kind === "change")) return item.from;
	if ("to" in item) return item.to;
	return null;
}

/** One open call: the id it acts under, and what its submission came to once committed. */
interface OperatorCall {
	readonly id: ConnectionId;
	/**
	 * The delivery its submission came to in the committed burst, or `null` when it came to none
	 * addressed to it (a kick or a ban: the removal is for everyone).
	 */
	readonly outcome: Promise<Delivery | null>;
}

/** The room's calls from the API that wait for their burst's commit. */
class OperatorCalls {
	#opened = 0;
	readonly #waiting = new Map<ConnectionId, (delivery: Delivery | null) => void>();

	/** Opens a call. What it submits must join the current burst before the next `settle`. */
	open(): OperatorCall {
		const id = `${CALL_PREFIX}${++this.#opened}`;
		const outcome = new Promise<Delivery | null>((resolve) => this.#waiting.set(id, resolve));
		return { id, outcome };
	}

	/** Whether any call waits (the burst must end even if it holds nothing else). */
	get waiting(): boolean {
		return this.#waiting.size > 0;
	}

	/**
	 * A burst was committed (`deliveries[i]` is what `burst[i]` came to): each call of it is
	 * answered, and the deliveries for hubs are returned, without those addressed to a call.
	 */
	settle(burst: readonly Staged[], deliveries: Delivery[]): Delivery[] {
		if (this.#waiting.size === 0) return deliveries;
		burst.forEach((item, index) => {
			const addressee = addresseeOfStaged(item);
			if (addressee === null) return;
			const resolve = this.#waiting.get(addressee);
			if (!resolve) return;
			this.#waiting.delete(addressee);
			resolve(deliveries[index] ?? null);
		});
		// Calls whose submission is for everyone (a kick, a ban) were committed with this burst too.
		for (const resolve of this.#waiting.values()) resolve(null);
		this.#waiting.clear();
		return deliveries.filter((delivery) => !("to" in delivery && delivery.to.startsWith(CALL_PREFIX)));
	}
}

/** Whom the API acts as when it moderates: a moderator named `API`, with a call's id. */
function operatorActor(from: ConnectionId) {
	return { from, name: OPERATOR_NAME, userId: null, role: "moderator" } as const;
}

/** What a post's delivery says to the API: stored now, stored before (its `clientId`), refused, or not stored. */
function postOutcome(delivery: Delivery | null): PostOutcome {
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

/** What a delete's delivery says to the API (none: it was deleted before, nothing was staged). */
function deleteOutcome(delivery: Delivery | null): DeleteOutcome {
	if (delivery === null) return { kind: "already" };
	if (delivery.kind === "message") return { kind: "deleted" };
	return { kind: delivery.kind === "error" ? "not_found" : "unavailable" };
}
