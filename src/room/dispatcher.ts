/**
 * The room's dispatcher: what each submission comes to in the burst. A client's event (from this
 * object's hub or from a shard) and a call of the operator's backend arrive here as the same
 * `Submission`, and this is the one place that asks the room's parts about it: a ban first
 * (src/room/moderation.ts), then presence, the conversation, the typing limit, moderation. It
 * returns what joins the burst; the room (src/room/room.ts) owns the burst and its end.
 */
import { logEvent } from "../deployment/log-event.ts";
import { WELCOME_MEMBERS } from "../wire/limits.ts";
import type { Submission } from "../wire/rpc.ts";
import type { Staged } from "./burst.ts";
import type { Conversation } from "./conversation.ts";
import { HERE, type Members, type Source } from "./members.ts";
import type { Moderation } from "./moderation.ts";
import type { RoomPolicies } from "./policies.ts";
import { TypingLimit } from "./typing-limit.ts";

/** The parts of the room the dispatcher asks. */
export interface DispatcherParts {
	readonly conversation: Conversation;
	readonly members: Members;
	readonly moderation: Moderation;
	readonly policies: RoomPolicies;
}

/** Turns submissions into what they stage. */
export class Dispatcher {
	readonly #conversation: Conversation;
	readonly #members: Members;
	readonly #moderation: Moderation;
	readonly #policies: RoomPolicies;
	readonly #typing = new TypingLimit();

	constructor({ conversation, members, moderation, policies }: DispatcherParts) {
		this.#conversation = conversation;
		this.#members = members;
		this.#moderation = moderation;
		this.#policies = policies;
	}

	/** What a client did, as it joins the burst; `source` says which object of the room it came through. */
	take(submission: Submission, now: number, source: Source = HERE): Staged[] {
		const banned = this.#moderation.enforceBan(submission, now);
		if (banned) return [banned];
		switch (submission.kind) {
			case "arrive":
				return orNone(this.#members.arrive(submission, source));
			case "hello":
				return [...orNone(this.#members.arrive(submission, source)), this.#hello(submission)];
			case "send": {
				const admit = () => this.#policies.refusalOf("send", submission, now);
				return this.guard(submission.from, submission.clientId, () => this.#conversation.send(submission, now, admit));
			}
			case "react": {
				const refusal = this.#policies.refusalOf("react", submission, now);
				if (refusal) return [{ kind: "error", to: submission.from, error: refusal }];
				return this.guard(submission.from, null, () => this.#conversation.react(submission, now));
			}
			case "reactors":
				return this.guard(submission.from, null, () => this.#conversation.reactors(submission));
			case "read":
				this.#conversation.read(submission);
				return [];
			case "history":
				return [{ kind: "history", to: submission.from, request: submission }];
			case "typing":
				return this.#typing.passes(submission.name, now) ? [submission] : [];
			case "frame":
				return [{ kind: "frame", frame: submission.frame }];
			case "edit": {
				const admit = () => this.#policies.refusalOf("edit", submission, now);
				return this.guard(submission.from, null, () => this.#moderation.change(submission, now, admit));
			}
			case "delete":
				return this.guard(submission.from, null, () => this.#moderation.change(submission, now));
			case "kick":
			case "ban":
				return [this.#moderation.remove(submission, this.#members.nameOf(submission.target), now)];
			case "depart":
				return orNone(this.#members.depart(submission, source));
			case "settings":
				return [this.#policies.change(submission.patch, submission.name)];
		}
	}

	/**
	 * Runs a step that reads the log and stages what it returns; if storage cannot even be read,
	 * the sender is told instead (a send carries its `clientId`, to retry with).
	 */
	guard(from: string, clientId: string | null, step: () => Staged | null): Staged[] {
		try {
			return orNone(step());
		} catch (error) {
			logEvent("storage_failed", { during: "stage", error: String(error) });
			return [{ kind: "unreadable", clientId, from }];
		}
	}

	/** A rich client joins: its welcome is the room as it stands now, its history added at the commit. */
	#hello({ from, name, userId, role, since }: Extract<Submission, { kind: "hello" }>): Staged {
		const members = this.#members.sample(WELCOME_MEMBERS);
		const upTo = this.#conversation.log.latestId;
		const settings = this.#policies.settings;
		const request = { name, userId, role, since, upTo, members, memberCount: this.#members.size, settings };
		return { kind: "welcome", to: from, request };
	}
}

/** An item, or none. */
function orNone(item: Staged | null): Staged[] {
	return item ? [item] : [];
}
