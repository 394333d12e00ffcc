/**
 * The room's desk for the operator's backend (the HTTP API, src/api/app.ts): what each call asks
 * of the room. A call joins the room's burst like a client's event, under a call id of its own
 * (src/room/operator-calls.ts), goes through the same intake (src/room/intake.ts), and is
 * answered once that burst is committed, with what it came to. The room's object keeps the RPC
 * methods the Worker calls, each handing over to this desk, and settles the calls at every
 * commit (`settle`); the desk hands what a call stages to the room's burst (`stage`).
 */
import type {
	DeleteOutcome,
	MessagePage,
	MessagesQuery,
	OperatorPost,
	OperatorRemoval,
	PostOutcome,
	RemovalOutcome,
} from "../wire/operator.ts";
import type { RoomSettings, SettingsPatch } from "../wire/protocol.ts";
import type { Delivery } from "../wire/rpc.ts";
import type { Staged } from "./burst.ts";
import type { Conversation } from "./conversation.ts";
import type { Intake } from "./intake.ts";
import type { Members } from "./members.ts";
import type { Moderation } from "./moderation.ts";
import { deleteOutcome, OperatorCalls, operatorActor, postOutcome } from "./operator-calls.ts";
import type { RoomPolicies } from "./policies.ts";
import type { RoomName } from "./room-name.ts";

/** The parts of the room the desk asks, and where what a call stages goes (the room's burst). */
export interface DeskParts {
	readonly conversation: Conversation;
	readonly members: Members;
	readonly moderation: Moderation;
	readonly intake: Intake;
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

	/** A burst was committed: each call of it is answered; the deliveries for hubs are returned (src/room/operator-calls.ts). */
	settle(burst: readonly Staged[], deliveries: Delivery[]): Delivery[] {
		return this.#calls.settle(burst, deliveries);
	}

	/** A message posted through the API, stored and fanned out like a client's; its `clientId` makes it once only. */
	async post({ room, name, text, clientId, replyTo }: OperatorPost): Promise<PostOutcome> {
		const [outcome] = await this.#call(room, (from, now) => {
			const send = { kind: "send", from, name, userId: null, role: null, text, clientId, replyTo, api: true } as const;
			return this.#parts.intake.take(0, send, false, now);
		});
		return postOutcome(outcome);
	}

	/** A page of messages as they stand now (what is committed; a post is answered after its commit). */
	messages(query: MessagesQuery): MessagePage {
		return this.#parts.conversation.messages(query);
	}

	/** A delete through the API (src/room/moderation.ts decides). */
	async deleteMessage(room: string, id: number): Promise<DeleteOutcome> {
		const { intake, moderation } = this.#parts;
		const [outcome] = await this.#call(room, (from, now) =>
			intake.guard(from, null, () => moderation.deleteForOperator(id, from, now)),
		);
		return deleteOutcome(outcome);
	}

	/** Signed mode: the API kicks or bans a user, as a moderator named `API`; its connections close everywhere. */
	async remove(room: string, removal: OperatorRemoval): Promise<RemovalOutcome> {
		const present = this.#parts.members.nameOf(removal.target) !== undefined;
		const [answer, staged] = await this.#call(room, (from, now) =>
			this.#parts.intake.take(0, { ...operatorActor(from), ...removal }, false, now),
		);
		if (answer?.kind === "error") return { present, refused: answer.error.message };
		const notice = staged.find((item) => item.kind === "remove")?.notice;
		return notice?.until === undefined ? { present } : { present, until: notice.until };
	}

	/** The API changes the room's settings (announced to everyone, as by a moderator named `API`). */
	async changeSettings(room: string, patch: SettingsPatch): Promise<RoomSettings> {
		await this.#call(room, (from, now) =>
			this.#parts.intake.take(0, { kind: "settings", ...operatorActor(from), patch }, false, now),
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
