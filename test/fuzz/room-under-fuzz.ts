/**
 * One room under fuzz, over loopback against a real local server (workerd through miniflare,
 * wrangler.toml's shipped settings): three rich observers and a plain one stay for the whole
 * run, a talker sends valid messages as its allowance permits, and each case's connections
 * send their frames and close. Each case ends with a marker message from a plain connection;
 * once every observer has it, everything the case caused has reached them, so what they saw in
 * between is that case's, and is checked against what its connections were answered.
 */
import { isDeepStrictEqual } from "node:util";
import { PING } from "../../public/contract.js";
import type { LocalServer } from "../../scripts/local-server.ts";
import type { ChatMessage } from "../../src/wire/log-entries.ts";
import type { ServerEvent, SingleServerEvent, WelcomeEvent } from "../../src/wire/protocol.ts";
import { type Client, openClient } from "../support/clients.ts";
import { closePayload, Opcode, RawWebSocket } from "../support/raw-websocket.ts";
import { joinRich, type RichClient } from "../support/rich-client.ts";
import type { Case, Connection } from "./frames.ts";
import { wireFrame } from "./frames.ts";
import { checkPlain, checkRich, type Observed, type Outcome } from "./oracle.ts";

/** `HISTORY_RETENTION` and `HISTORY_REPLAY` as shipped. */
const RETENTION = 10_000;
const REPLAY = 50;
/** The most entries a resuming welcome carries: the larger of `HISTORY_REPLAY` and 100. */
const RESUME_LIMIT = 100;
/** The talker sends again only this long after its last message, so it is never over its allowance. */
const TALKER_GAP_MS = 1_100;

/** Figures for the report. */
export interface Tally {
	cases: number;
	connections: number;
	frames: number;
	stored: number;
	floodCloses: number;
	oversizeCloses: number;
	inexact: number;
}

/** A plain frame as received, text or bytes. */
type PlainFrame = string | Uint8Array;

function plainFrameOf(client: Client, index: number): PlainFrame {
	const frame = client.frames[index];
	if (!frame) throw new Error("no such frame");
	return frame.isBinary ? new Uint8Array(frame.data) : frame.text;
}

const describe = (value: unknown) => JSON.stringify(value)?.slice(0, 300);

/** The room, its observers and its talker. */
export class RoomUnderFuzz {
	readonly #server: LocalServer;
	readonly #room: string;
	readonly #observers: RichClient[];
	readonly #plainObserver: Client;
	readonly #talker: RichClient;
	readonly #heartbeat: ReturnType<typeof setInterval>;
	readonly #tag = crypto.randomUUID().slice(0, 6);
	#caseNo = 0;
	#talkerSentAt = 0;
	#talkerSent = 0;
	readonly tally: Tally = {
		cases: 0,
		connections: 0,
		frames: 0,
		stored: 0,
		floodCloses: 0,
		oversizeCloses: 0,
		inexact: 0,
	};

	private constructor(server: LocalServer, room: string, observers: RichClient[], plain: Client, talker: RichClient) {
		this.#server = server;
		this.#room = room;
		this.#observers = observers;
		this.#plainObserver = plain;
		this.#talker = talker;
		// The page's heartbeat: without it a long run's observers would be closed after 90 s (1001).
		this.#heartbeat = setInterval(() => {
			for (const client of [...observers, talker]) client.client.socket.send(PING);
		}, 30_000);
		this.#heartbeat.unref();
	}

	/** Opens the observers and the talker in a fresh room. */
	static async open(server: LocalServer, room: string): Promise<RoomUnderFuzz> {
		const url = server.socketUrl(room);
		const observers = [
			await joinRich(url, "observer-1"),
			await joinRich(url, "observer-2"),
			await joinRich(url, "observer-3"),
		];
		const plain = await openClient(url);
		const talker = await joinRich(url, "talker");
		// The talker is welcomed in the burst that tells the observers it joined, but that news can
		// reach them after the welcome reaches the talker: wait for it, or the first case's slice
		// of their events would start before it (and count a join nobody in the case made).
		await Promise.all(
			observers.map((observer) =>
				observer.until(() => observer.events.some((event) => event.type === "join" && event.name === "talker")),
			),
		);
		return new RoomUnderFuzz(server, room, observers, plain, talker);
	}

	/** Runs one case; returns what went against the document (empty when all held). */
	async run(fuzzCase: Case): Promise<string[]> {
		const caseNo = ++this.#caseNo;
		const starts = this.#observers.map((o) => o.events.length);
		const plainStart = this.#plainObserver.frames.length;
		const talkerMessage = this.#talk(caseNo);
		const started = Date.now();
		const outcomes = await Promise.all(
			fuzzCase.map((connection, i) => this.#drive(connection, `f${this.#tag}${caseNo}c${i}-`)),
		);
		const caseMs = Date.now() - started;
		await talkerMessage;
		await this.#departed();
		const marker = await this.#mark(caseNo);
		const problems = outcomes.flatMap((o, i) => o.problems.map((p) => `connection ${i} (${fuzzCase[i]?.kind}): ${p}`));
		problems.push(...this.#checkSlices(fuzzCase, outcomes, starts, plainStart, marker, caseMs));
		this.tally.cases++;
		return problems;
	}

	/**
	 * Waits until the room counts only the run's own connections again: the case's have all
	 * left, and their departures reached the room's object. On one object that is so once their
	 * Closes are answered; a shard reports departures in its next call to the room, which can come
	 * after a message sent meanwhile through another part of the room (PROTOCOL.md promises no
	 * order between what different clients do), so without this the case's last `leave` could
	 * land after the marker for some observers and before it for others.
	 */
	async #departed(): Promise<void> {
		const stays = this.#observers.length + 2; // the observers, the plain observer, the talker
		for (;;) {
			const stats = (await (await fetch(`${this.#server.origin}/api/rooms/${this.#room}`)).json()) as {
				connections: number;
			};
			if (stats.connections <= stays) return;
			await new Promise((resolve) => setTimeout(resolve, 5));
		}
	}

	/** The talker says something when its allowance surely has room (never refused). */
	async #talk(caseNo: number): Promise<void> {
		if (Date.now() - this.#talkerSentAt < TALKER_GAP_MS) return;
		this.#talkerSentAt = Date.now();
		const clientId = `talk${this.#tag}${++this.#talkerSent}`;
		const talker = this.#talker;
		const from = talker.events.length;
		talker.send(`talk ${caseNo}`, clientId);
		const answer = await firstFrom(
			talker.events,
			from,
			talker.until,
			(e) => e.type === "error" || (e.type === "message" && e.clientId === clientId),
		);
		if (answer.type === "error") throw new Error(`the talker was refused: ${describe(answer)}`);
	}

	/** A plain connection says the case is over; resolves once every observer has it, with its id. */
	async #mark(caseNo: number): Promise<ChatMessage> {
		const text = `end ${this.#tag} ${caseNo}`;
		const plain = this.#plainObserver;
		const froms = this.#observers.map((o) => o.messages.length);
		let plainFrom = plain.frames.length;
		const marker = await openClient(this.#server.socketUrl(this.#room));
		marker.socket.send(text);
		await marker.waitForFrames(1);
		marker.socket.close(1000);
		await marker.closed;
		const found = await Promise.all(
			this.#observers.map((o, i) =>
				firstFrom(o.messages, froms[i] ?? 0, o.until, (m) => m.text === text && m.clientId === null),
			),
		);
		for (; ; plainFrom++) {
			await plain.waitForFrames(plainFrom + 1);
			if (plain.frames[plainFrom]?.text === text) break;
		}
		return found[0] as ChatMessage;
	}

	/** Opens one connection, sends its frames and its Close at once, and checks what came back. */
	async #drive(connection: Connection, prefix: string): Promise<Outcome> {
		this.tally.connections++;
		if (connection.kind === "bad-close") return this.#badClose(connection.code);
		const began = Date.now();
		const client = await openClient(
			this.#server.socketUrl(this.#room),
			connection.kind === "rich" ? ["edgechat.v1"] : [],
		);
		const wire = connection.frames.map((frame) => wireFrame(frame, prefix));
		for (const frame of wire) client.socket.send(frame);
		const sendingMs = Date.now() - began;
		client.socket.close(connection.ending.code, connection.ending.reason);
		const close = await client.closed;
		this.tally.frames += wire.length;
		const observed: Observed = {
			events: connection.kind === "rich" ? eventsOf(client) : [],
			frames: client.frames.map((_, i) => plainFrameOf(client, i)),
			close,
			sendingMs,
		};
		const outcome =
			connection.kind === "rich"
				? checkRich(wire, observed, connection.ending, prefix)
				: checkPlain(wire, observed, connection.ending);
		if (close.code === 1008) this.tally.floodCloses++;
		if (close.code === 1009) this.tally.oversizeCloses++;
		if (!outcome.exact) this.tally.inexact++;
		return outcome;
	}

	/** A raw socket closes with a code no endpoint may send: the runtime fails it with 1002. */
	async #badClose(code: number): Promise<Outcome> {
		const { ws, response } = await RawWebSocket.open(this.#server.origin, `/api/rooms/${this.#room}/websocket`);
		const problems: string[] = [];
		if (!ws) return { ...emptyOutcome(), problems: [`upgrade refused: ${response.status}`] };
		await ws.send({ opcode: Opcode.close, payload: closePayload(code) });
		const reply = await ws.nextClose();
		const replyCode = reply && reply.payload.length >= 2 ? reply.payload.readUInt16BE(0) : undefined;
		if (replyCode !== 1002) problems.push(`Close ${code} answered with ${replyCode}, expected 1002`);
		ws.destroy();
		return { ...emptyOutcome(), problems };
	}

	/** What the observers saw during the case, against what its connections were answered. */
	#checkSlices(
		fuzzCase: Case,
		outcomes: readonly Outcome[],
		starts: readonly number[],
		plainStart: number,
		marker: ChatMessage,
		caseMs: number,
	): string[] {
		const problems: string[] = [];
		// A pong answers one observer's own heartbeat, whenever it sent it: not the room's content.
		const slices = this.#observers.map((o, i) =>
			o.events.slice(starts[i]).filter((e) => (e as { type: string }).type !== "pong"),
		);
		const first = slices[0] ?? [];
		for (const [i, slice] of slices.entries()) {
			if (!isDeepStrictEqual(slice, first))
				problems.push(`observer ${i + 1} saw ${describe(slice)}, observer 1 ${describe(first)}`);
		}
		const messages = first.filter((e) => e.type === "message") as ChatMessage[];
		const byClientId = new Map(messages.filter((m) => m.clientId !== null).map((m) => [m.clientId, m]));
		const echoed = outcomes.flatMap((o) => o.stored);
		this.tally.stored += messages.length;
		for (const message of echoed.filter((m) => m.clientId !== null)) {
			const seen = byClientId.get(message.clientId);
			if (!seen || !isDeepStrictEqual(stored(seen), stored(message))) {
				problems.push(`stored ${describe(message)} but the observers saw ${describe(seen)}`);
			}
		}
		const fuzzIds = new Set(echoed.map((m) => m.clientId));
		for (const message of messages) {
			const fromFuzz = message.clientId !== null && !message.clientId.startsWith("talk");
			if (fromFuzz && !fuzzIds.has(message.clientId))
				problems.push(`observers saw a message nobody was echoed: ${describe(message)}`);
		}
		if (outcomes.every((o) => o.exact)) {
			const guests = messages.filter((m) => m.clientId === null && m.id !== marker.id).map((m) => m.text);
			const expectedGuests = echoed.filter((m) => m.clientId === null).map((m) => m.text);
			if (!isDeepStrictEqual([...guests].sort(), [...expectedGuests].sort())) {
				problems.push(`guest messages ${describe(guests)}, expected ${describe(expectedGuests)}`);
			}
		}
		const ids = messages.map((m) => m.id);
		if (ids.some((id, i) => i > 0 && id !== (ids[i - 1] as number) + 1))
			problems.push(`message ids not consecutive: ${describe(ids)}`);
		problems.push(...this.#checkPlainObserver(messages, plainStart));
		problems.push(...checkPresence(first, fuzzCase, outcomes, caseMs));
		for (const outcome of outcomes) {
			for (const { since, welcome } of outcome.welcomes) problems.push(...this.#checkHistory(since, welcome));
		}
		return problems;
	}

	/** The plain observer got every stored message of the case as text, in the one order. */
	#checkPlainObserver(messages: readonly ChatMessage[], plainStart: number): string[] {
		const texts: string[] = [];
		for (let i = plainStart; i < this.#plainObserver.frames.length; i++) {
			const frame = plainFrameOf(this.#plainObserver, i);
			if (typeof frame === "string" && frame.length > 0) texts.push(frame);
		}
		const expected = messages.map((m) => (m.clientId === null ? m.text : `${m.name}: ${m.text}`));
		return isDeepStrictEqual(texts, expected)
			? []
			: [`plain observer saw ${describe(texts)}, expected ${describe(expected)}`];
	}

	/**
	 * A welcome's history is exactly what the log held for its `since` (PROTOCOL.md, `welcome` and
	 * "History"): without one, or with one it cannot resume from (a gap), the newest
	 * `HISTORY_REPLAY`; with one, the entries after it, at most `RESUME_LIMIT`, and `more` when
	 * there are more. (The fuzzed room's log holds messages only: no edits, no reactions.)
	 */
	#checkHistory(since: number | undefined, welcome: WelcomeEvent): string[] {
		const log = new Map(this.#observers[0]?.messages.map((m) => [m.id, stored(m)]));
		const latest = welcome.latestId;
		const oldest = Math.max(1, latest - RETENTION + 1);
		const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
		const fresh = range(Math.max(oldest, latest - REPLAY + 1), latest);
		let ids: number[];
		let gap = false;
		let more = false;
		if (since === undefined) ids = fresh;
		else if (since > latest || since + 1 < oldest) [ids, gap] = [fresh, true];
		else {
			ids = range(since + 1, Math.min(latest, since + RESUME_LIMIT));
			more = since + RESUME_LIMIT < latest;
		}
		const expected = ids.map((id) => log.get(id));
		const history = welcome.history.map((entry) => stored(entry as ChatMessage));
		if (welcome.gap !== gap || (welcome.more ?? false) !== more || !isDeepStrictEqual(history, expected)) {
			return [
				`welcome for since ${since} at latest ${latest}: gap ${welcome.gap}, more ${welcome.more} and ids ${describe(welcome.history.map((m) => m.id))}, expected gap ${gap}, more ${more} and ids ${describe(ids)}`,
			];
		}
		return [];
	}

	/**
	 * The end of the run: the observers saw one order with nothing lost (ids 1..N each once), a
	 * history replay equals what they saw live, and the room still takes a client and a message.
	 */
	async finish(): Promise<string[]> {
		clearInterval(this.#heartbeat);
		const problems: string[] = [];
		const live = this.#observers[0]?.messages ?? [];
		for (const [i, observer] of this.#observers.entries()) {
			if (!isDeepStrictEqual(observer.messages, live))
				problems.push(`observer ${i + 1}'s messages differ from observer 1's`);
			if (observer.events.some((e) => e.type === "error")) problems.push(`observer ${i + 1} got an error`);
		}
		const ids = live.map((m) => m.id);
		if (!ids.every((id, i) => id === i + 1)) problems.push(`observers' ids are not 1..${ids.length}`);
		// From the start: a welcome of the first 100, then history pages for the rest (the client
		// catches up as PROTOCOL.md says), nothing missed and nothing twice.
		const replay = await joinRich(this.#server.socketUrl(this.#room), "auditor", 0);
		const retained = live.slice(-RETENTION).map(stored);
		if (!replay.welcome.gap) await replay.until(() => replay.messages.length >= retained.length);
		const replayed = replay.messages.map(stored);
		if (!isDeepStrictEqual(replayed, retained) || replay.welcome.gap !== live.length > RETENTION) {
			problems.push(`replay of ${replayed.length} messages differs from the ${retained.length} seen live`);
		}
		replay.send("still serving", `audit${this.#tag}`);
		await Promise.all(this.#observers.map((o) => o.until(() => o.messages.some((m) => m.text === "still serving"))));
		replay.client.socket.close(1000);
		for (const client of [...this.#observers, this.#talker]) client.client.socket.close(1000);
		this.#plainObserver.socket.close(1000);
		const closes = await Promise.all([...this.#observers, this.#talker].map((c) => c.client.closed));
		if (closes.some((c) => c.code !== 1000)) problems.push(`observers closed with ${describe(closes)}`);
		return problems;
	}
}

/**
 * The first item of `list` from index `from` on that `matches`, once there is one (`until` is the
 * client's wait for its next events). Scanning only what is new keeps a long run linear.
 */
async function firstFrom<T>(
	list: readonly T[],
	from: number,
	until: (ready: () => boolean) => Promise<void>,
	matches: (item: T) => boolean,
): Promise<T> {
	let at = from;
	await until(() => {
		for (; at < list.length; at++) if (matches(list[at] as T)) return true;
		return false;
	});
	return list[at] as T;
}

/** Every event a rich client got (batches unpacked), pongs included. */
function eventsOf(client: Client): (SingleServerEvent | { type: "pong" })[] {
	return client.frames.flatMap((frame) => {
		const event = JSON.parse(frame.text) as ServerEvent | { type: "pong" };
		return event.type === "batch" ? event.events : [event];
	});
}

/** A message as stored (a live `message` event less its `type`), to compare with history. */
function stored(message: ChatMessage): ChatMessage {
	const { id, clientId, name, text, ts } = message;
	return { id, clientId, name, text, ts };
}

function emptyOutcome(): Outcome {
	return { problems: [], stored: [], welcomes: [], name: null, typed: false, relayed: [], flooded: false, exact: true };
}

/**
 * Joins, leaves and typing the observers saw in one case: a name joined by the case appears and
 * leaves once (its first and last connection), and typing reaches them at most once per 2 s per
 * name, and only from a name that typed.
 */
function checkPresence(
	slice: readonly SingleServerEvent[],
	fuzzCase: Case,
	outcomes: readonly Outcome[],
	caseMs: number,
): string[] {
	const problems: string[] = [];
	const names = new Set(outcomes.map((o) => o.name).filter((n): n is string => n !== null && n !== "guest"));
	for (const name of names) {
		// Two connections of one name may follow each other (the first gone before the second
		// joins): then the name comes and goes twice. Never two joins or two leaves in a row.
		const events = slice.filter((e) => (e.type === "join" || e.type === "leave") && e.name === name).map((e) => e.type);
		const connections = outcomes.filter((o) => o.name === name).length;
		const alternating = events.every((type, i) => type === (i % 2 === 0 ? "join" : "leave"));
		if (!alternating || events.length === 0 || events.length % 2 !== 0 || events.length > 2 * connections)
			problems.push(
				`${describe(name)}: presence ${describe(events)}, expected join then leave, at most once per connection`,
			);
		const typers = outcomes.filter((o) => o.name === name && o.typed).length;
		const typing = slice.filter((e) => e.type === "typing" && e.name === name).length;
		// The room passes a name's typing on at most once per 2 s, however many tabs type, and may
		// drop it when 5 other names typed in those 2 s (PROTOCOL.md): no lower bound here.
		const most = Math.min(typers, 1) * (1 + Math.floor(caseMs / 2_000));
		if (typing > most) problems.push(`${describe(name)}: ${typing} typing notices from ${typers} typists`);
	}
	const stray = slice.filter(
		(e) => (e.type === "join" || e.type === "leave" || e.type === "typing") && !names.has(e.name),
	);
	if (stray.length > 0)
		problems.push(`presence for names no connection joined as: ${describe(stray)} (case of ${fuzzCase.length})`);
	const errors = slice.filter((e) => e.type === "error" || e.type === "welcome");
	if (errors.length > 0) problems.push(`observers got ${describe(errors)}`);
	return problems;
}
