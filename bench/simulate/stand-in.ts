/**
 * A stand-in shard for the room simulation (bench/simulate.ts): bound as `SHARDS` in place of
 * the real shard, it stands for `members` members of a room without a socket among them, and
 * talks to the real room object exactly as a shard does: one `Batch` per burst in (`Room.submit`),
 * one `Push` per burst back (`deliver`, answered with the connections it holds).
 *
 * Its members are numbers (member `i` of stand-in `s` is named `m{s}-{i}`, its connection
 * `{s}/c{i}.{generation}`), so a stand-in for 10,000 members holds a few typed arrays, not
 * 10,000 objects: the isolate's memory stays the room's. What they do comes from a scenario
 * (`run`): messages at a rate, churn (a member leaves and comes back), a deploy (every member
 * comes back within a window, resuming after the last id this stand-in saw). What comes back is
 * checked as a client would: one welcome per hello, its count of the room, every message id once.
 *
 * Submissions due at one moment go in one batch, and a batch goes no sooner than `pace`
 * milliseconds after the one before (what the room's answer to `submit` asks of a real shard);
 * with a pace of 0 a stand-in submits each member's doing in its own batch, as a shard whose
 * sockets' events come one at a time does.
 */
import { DurableObject } from "cloudflare:workers";
import type { Batch, Delivery, MemberCounts, Push, Submission } from "../../src/wire/rpc.ts";
import type { Scenario, StandInReport } from "./scenario.ts";

/** Where a member is: away, waiting for its welcome, or present. */
const AWAY = 0;
const WAITING = 1;
const PRESENT = 2;

/** A stand-in for one shard of a room. */
export class StandIn extends DurableObject<Env> {
	#room = "";
	#shard = 0;
	#state = new Uint8Array(0);
	#generation = new Uint32Array(0);
	/** Submissions due, by time (ms), each made when it goes (so a hello's `since` is current). */
	#due: { at: number; make: () => Submission | null }[] = [];
	/**
	 * A deploy's comebacks, in typed arrays (a closure per member would weigh as much as the
	 * room's own records at a million members): member `order[k]` hellos at `times[k]`, from `next` on.
	 */
	#comebacks = { times: new Float64Array(0), order: new Uint32Array(0), next: 0 };
	#timer: ReturnType<typeof setTimeout> | null = null;
	/** When the timer fires. */
	#timerAt = Number.POSITIVE_INFINITY;
	#lastSubmit = 0;
	/** The least time between two batches, as the room last asked. */
	#pace = 0;
	#scenarioStart = 0;
	#scenarioTimers: ReturnType<typeof setTimeout>[] = [];
	#report = emptyReport();

	/** Takes `members` members of `room` as shard `shard` and tells the room all of them at once. */
	async setUp(room: string, shard: number, members: number): Promise<void> {
		this.#room = room;
		this.#shard = shard;
		this.#state = new Uint8Array(members).fill(PRESENT);
		this.#generation = new Uint32Array(members);
		const list: [string, string, number][] = [];
		for (let i = 0; i < members; i++) list.push([this.#name(i), this.#name(i), 1]);
		await this.#send({ room, shard, connections: members, members: list satisfies MemberCounts, submissions: [] });
	}

	/** Runs a scenario; `report` says how it went. */
	run(scenario: Scenario): void {
		for (const timer of this.#scenarioTimers) clearTimeout(timer);
		this.#scenarioTimers = [];
		this.#report = emptyReport();
		this.#scenarioStart = Date.now();
		const end = this.#scenarioStart + scenario.seconds * 1_000;
		if (scenario.rejoinWithinMs !== null) this.#deploy(scenario.rejoinWithinMs);
		this.#every(scenario.messagesPerSecond, end, () => this.#someoneSays());
		this.#every(scenario.churnPerSecond, end, () => this.#someoneLeavesAndComesBack());
	}

	/** How the scenario went so far. */
	report(): StandInReport {
		let waiting = 0;
		for (const state of this.#state) if (state === WAITING) waiting++;
		const pending = this.#due.length + this.#comebacks.times.length - this.#comebacks.next;
		return { ...this.#report, waiting, pending };
	}

	/** A push from the room: checked as a member would check it. */
	deliver(push: Push): number {
		const report = this.#report;
		report.pushes++;
		report.deliveries += push.deliveries.length;
		report.pushBytes += JSON.stringify(push).length;
		for (const delivery of push.deliveries) this.#check(delivery);
		let connections = 0;
		for (const state of this.#state) if (state !== AWAY) connections++;
		return connections;
	}

	// -- what members do --------------------------------------------------------------------------

	/** Every member is dropped and comes back at a random moment within `withinMs`, as after a deploy. */
	#deploy(withinMs: number): void {
		this.#state.fill(AWAY);
		this.#due = [];
		// A reset shard starts empty and says so (an empty member list) before anyone is back.
		void this.#send({ room: this.#room, shard: this.#shard, connections: 0, members: [], submissions: [] });
		const now = Date.now();
		const members = this.#state.length;
		const at = new Float64Array(members);
		// The page's first reconnect waits 250 to 500 ms (public/client/connection.js).
		for (let i = 0; i < members; i++) at[i] = now + Math.random() * withinMs + 250 + Math.random() * 250;
		const order = new Uint32Array(members).map((_, i) => i).sort((a, b) => (at[a] ?? 0) - (at[b] ?? 0));
		const times = new Float64Array(members);
		order.forEach((i, k) => {
			times[k] = at[i] ?? 0;
		});
		this.#comebacks = { times, order, next: 0 };
		this.#arm();
	}

	#someoneSays(): void {
		const i = this.#presentMember();
		if (i === null) return;
		const text = `message from ${this.#name(i)}`;
		this.#queue(() => ({ kind: "send", ...this.#actor(i), text, clientId: crypto.randomUUID(), replyTo: null }));
	}

	#someoneLeavesAndComesBack(): void {
		const i = this.#presentMember();
		if (i === null) return;
		this.#queue(() => {
			this.#state[i] = AWAY;
			return { kind: "depart", ...this.#actor(i) };
		});
		const back = Date.now() + 1_000 + Math.random() * 2_000;
		this.#insert({ at: back, make: () => this.#hello(i) });
		this.#arm();
	}

	#hello(i: number): Submission {
		this.#generation[i] = (this.#generation[i] ?? 0) + 1;
		this.#state[i] = WAITING;
		this.#report.hellos++;
		const since = this.#report.latestId > 0 ? this.#report.latestId : undefined;
		return { kind: "hello", ...this.#actor(i), since };
	}

	#actor(i: number) {
		return { from: `${this.#shard}/c${i}.${this.#generation[i]}`, name: this.#name(i), userId: null, role: null };
	}

	#name(i: number): string {
		return `m${this.#shard}-${i}`;
	}

	#presentMember(): number | null {
		for (let tries = 0; tries < 20; tries++) {
			const i = Math.floor(Math.random() * this.#state.length);
			if (this.#state[i] === PRESENT) return i;
		}
		return null;
	}

	/** Calls `act` at random moments, `perSecond` on average, until `end`. */
	#every(perSecond: number, end: number, act: () => void): void {
		if (perSecond <= 0) return;
		const next = () => {
			const wait = -Math.log(1 - Math.random()) * (1_000 / perSecond);
			if (Date.now() + wait > end) return;
			this.#scenarioTimers.push(
				setTimeout(() => {
					act();
					next();
				}, wait),
			);
		};
		next();
	}

	// -- to the room ------------------------------------------------------------------------------

	#queue(make: () => Submission | null): void {
		this.#insert({ at: Date.now(), make });
		this.#arm();
	}

	#insert(item: { at: number; make: () => Submission | null }): void {
		let i = this.#due.length;
		while (i > 0 && (this.#due[i - 1]?.at ?? 0) > item.at) i--;
		this.#due.splice(i, 0, item);
	}

	/** Sets the timer for the next batch: when the next submission is due, and not before the pace allows. */
	#arm(): void {
		const { times, next: k } = this.#comebacks;
		const next = Math.min(this.#due[0]?.at ?? Number.POSITIVE_INFINITY, times[k] ?? Number.POSITIVE_INFINITY);
		if (next === Number.POSITIVE_INFINITY) return;
		const at = Math.max(next, this.#lastSubmit + this.#pace);
		if (this.#timer !== null && this.#timerAt <= at) return;
		if (this.#timer !== null) clearTimeout(this.#timer);
		this.#timerAt = at;
		this.#timer = setTimeout(() => this.#flush(), Math.max(0, at - Date.now()));
	}

	#flush(): void {
		this.#timer = null;
		this.#timerAt = Number.POSITIVE_INFINITY;
		const now = Date.now();
		let taken = 0;
		while (taken < this.#due.length && (this.#due[taken]?.at ?? 0) <= now) taken++;
		const submissions = this.#due
			.splice(0, taken)
			.map((item) => item.make())
			.filter((submission) => submission !== null);
		const comebacks = this.#comebacks;
		while (comebacks.next < comebacks.times.length && (comebacks.times[comebacks.next] ?? 0) <= now) {
			submissions.push(this.#hello(comebacks.order[comebacks.next++] ?? 0));
		}
		if (submissions.length > 0) {
			let connections = 0;
			for (const state of this.#state) if (state !== AWAY) connections++;
			this.#lastSubmit = now;
			void this.#send({ room: this.#room, shard: this.#shard, connections, submissions });
		}
		this.#arm();
	}

	async #send(batch: Batch): Promise<void> {
		this.#report.batches++;
		this.#report.submissions += batch.submissions.length;
		this.#report.batchBytes += JSON.stringify(batch).length;
		const room = this.env.ROOMS.get(this.env.ROOMS.idFromName(this.#room));
		const answer: unknown = await room.submit(batch);
		if (typeof answer === "number") this.#pace = answer;
	}

	// -- from the room ----------------------------------------------------------------------------

	#check(delivery: Delivery): void {
		const report = this.#report;
		switch (delivery.kind) {
			case "welcome": {
				const [i, generation] = this.#memberOf(delivery.to);
				if (this.#state[i] === WAITING && this.#generation[i] === generation) {
					this.#state[i] = PRESENT;
					report.welcomes++;
					const count = delivery.event.memberCount;
					report.welcomeCountMin = Math.min(report.welcomeCountMin, count);
					report.welcomeCountMax = Math.max(report.welcomeCountMax, count);
					if (report.welcomes === report.hellos) report.allWelcomedMs = Date.now() - this.#scenarioStart;
				} else report.strayWelcomes++;
				return;
			}
			case "message":
				if (delivery.message.id <= report.latestId) report.disorderedIds++;
				report.latestId = Math.max(report.latestId, delivery.message.id);
				return;
			case "presence":
				report.presenceCount = delivery.event.memberCount;
				return;
			case "join":
			case "leave":
				report.joinLeaveEvents++;
				return;
			case "error":
			case "refused":
				report.errors++;
				return;
			default:
				return;
		}
	}

	/** Member number and generation from a connection id `{shard}/c{i}.{generation}`. */
	#memberOf(id: string): [number, number] {
		const [i, generation] = id.slice(id.indexOf("/") + 2).split(".");
		return [Number(i), Number(generation)];
	}
}

function emptyReport(): StandInReport {
	return {
		batches: 0,
		submissions: 0,
		batchBytes: 0,
		pushes: 0,
		deliveries: 0,
		pushBytes: 0,
		hellos: 0,
		welcomes: 0,
		strayWelcomes: 0,
		waiting: 0,
		pending: 0,
		welcomeCountMin: Number.POSITIVE_INFINITY,
		welcomeCountMax: 0,
		presenceCount: null,
		joinLeaveEvents: 0,
		errors: 0,
		latestId: 0,
		disorderedIds: 0,
		allWelcomedMs: null,
	};
}
