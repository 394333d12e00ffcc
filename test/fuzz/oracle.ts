/**
 * The answers PROTOCOL.md documents for one fuzz connection's frames, checked against what the
 * connection received. The checks follow the document's order (size, flood control, the
 * frame itself, joined or not; "Errors") and its flood control with the shipped settings: a
 * burst of 5, one more per second, and 1008 once refused more than 20 times in a window.
 */
import type { ChatMessage } from "../../src/wire/log-entries.ts";
import type { SingleServerEvent, WelcomeEvent } from "../../src/wire/protocol.ts";
import { oversize, plainRelay, type Reading, readFrame } from "./spec.ts";

/** Shipped flood control (wrangler.toml). */
const BURST = 5;
const REFILL_MS = 1_000;
/** Refusals within one window after which the room closes a rich connection (2 x RATE_LIMIT_MESSAGES). */
const STRIKES = 20;
/** Plain frames held beyond the burst before the connection is a flood. */
const HOLD = 10;
/**
 * The frame budget every rich frame draws on before it is read (PROTOCOL.md, "Errors"): a unit
 * per started 4,096 characters, 60 at once, 20 a second; 10 frames in a row over it close the
 * connection (1008).
 */
const FRAME_UNIT = 4_096;
const FRAME_BUCKET = 60;
const FRAME_PER_SECOND = 20;
const FRAME_STRIKES = 10;
/** History pages a connection may ask for at once, and how long one takes to come back (PROTOCOL.md, "History"). */
const PAGES = 10;
const PAGE_REFILL_MS = 200;
const PING = '{"type":"ping"}';
const PONG = '{"type":"pong"}';

/** What one connection got back: its events (rich) or frames (plain), and the Close. */
export interface Observed {
	/** Rich: every event, batches unpacked, pongs as `{type:"pong"}`. */
	readonly events: readonly (SingleServerEvent | { type: "pong" })[];
	/** Plain: every frame (text as string, binary as bytes). */
	readonly frames: readonly (string | Uint8Array)[];
	readonly close: { code: number; reason: string };
	/** Milliseconds from just before the socket opened to just after its last frame went out. */
	readonly sendingMs: number;
}

/** What a connection's frames came to, for the room-wide checks. */
export interface Outcome {
	readonly problems: string[];
	/** New messages it stored (echoes of first sends), in order. */
	readonly stored: ChatMessage[];
	/** The welcomes it got, with the `since` it asked with. */
	readonly welcomes: { since: number | undefined; welcome: WelcomeEvent }[];
	/** The name it joined as, if any. */
	readonly name: string | null;
	/** Whether it sent a typing once joined. */
	typed: boolean;
	/** Plain: what it had relayed (text and binary), in order. */
	readonly relayed: (string | Uint8Array)[];
	/** Whether the room closed it for flooding (1008). */
	flooded: boolean;
	/**
	 * False when the clock left the room free to relay a plain frame past the burst or not (the
	 * client took over a second to send): then only the Close is checked, and the case's
	 * guest messages are not counted.
	 */
	readonly exact: boolean;
}

/** The Close for a frame over `MAX_FRAME_BYTES`. */
const SIZE_CLOSE = { code: 1009, reason: "frame larger than 16384 bytes" };

/**
 * The frames the room reads, in order: up to the first one over the size limit (which closes the
 * connection), less the heartbeat frames (the runtime answers those itself, counted apart).
 */
function readable(frames: readonly (string | Uint8Array)[]): {
	read: (string | Uint8Array)[];
	pings: number;
	closedBySize: boolean;
} {
	const read: (string | Uint8Array)[] = [];
	let pings = 0;
	for (const frame of frames) {
		if (oversize(frame)) return { read, pings, closedBySize: true };
		if (frame === PING) pings++;
		else read.push(frame);
	}
	return { read, pings, closedBySize: false };
}

type Expected =
	| { type: "welcome"; name: string }
	| { type: "history"; retryAfterMs?: number }
	| { type: "error"; code: string; clientId?: string };

const describe = (value: unknown) => JSON.stringify(value)?.slice(0, 300);

/** The Close the room must send: its own for size or flooding, or the client's own code echoed. */
function checkClose(problems: string[], observed: Observed, expected: { code: number; reason: string }): void {
	if (observed.close.code !== expected.code || observed.close.reason !== expected.reason) {
		problems.push(`closed with ${describe(observed.close)}, expected ${describe(expected)}`);
	}
}

/** Whether the room may still have a token for the next counted frame (the burst, plus refill while sending). */
function tokenLeft(admitted: number, sendingMs: number): "yes" | "no" | "maybe" {
	if (admitted < BURST) return "yes";
	// Tokens are whole at the burst and refill continuously: under one refill period, none came back.
	return sendingMs < REFILL_MS ? "no" : "maybe";
}

/** Checks a rich connection's answers, frame by frame. */
export function checkRich(
	frames: readonly (string | Uint8Array)[],
	observed: Observed,
	ending: { code: number; reason: string },
	prefix: string,
): Outcome {
	const problems: string[] = [];
	// Two streams, each in the order of the frames (PROTOCOL.md, "Errors"): what the connection's
	// own part of the room answers at once (refusals of the frame itself, and the welcome, before
	// which later answers wait), and what the room's object decides at the end of the burst
	// (history pages, and here `not_found` for a reply or a reaction).
	const byRoom = (e: { type: string; code?: string; retryAfterMs?: number }) =>
		(e.type === "history" && e.retryAfterMs === undefined) || (e.type === "error" && e.code === "not_found");
	const all = observed.events.filter((e) => e.type === "error" || e.type === "welcome" || e.type === "history");
	const answers = all.filter((e) => !byRoom(e));
	const roomAnswers = all.filter(byRoom);
	let nextFromRoom = 0;
	const echoes = observed.events.filter(
		(e): e is Extract<SingleServerEvent, { type: "message" }> =>
			e.type === "message" && typeof e.clientId === "string" && e.clientId.startsWith(prefix),
	);
	const pongs = observed.events.filter((e) => e.type === "pong").length;
	const outcome: Outcome = {
		problems,
		stored: [],
		welcomes: [],
		name: null,
		typed: false,
		relayed: [],
		flooded: false,
		exact: true,
	};
	let name: string | null = null;
	let next = 0;
	let admitted = 0;
	let refused = 0;
	/** History pages taken from the connection's own pace. */
	let pages = 0;
	let closeBy: { code: number; reason: string } = ending;
	/** Each valid send, in order: its clientId, text and whether it was the first with that id. */
	const sends: { clientId: string; text: string; name: string }[] = [];
	const expect = (expected: Expected, since?: number) => {
		const got = byRoom(expected) ? roomAnswers[nextFromRoom++] : answers[next++];
		const ok =
			got?.type === expected.type &&
			(got.type !== "history" ||
				(got.retryAfterMs !== undefined) === (expected.type === "history" && expected.retryAfterMs !== undefined)) &&
			(got.type !== "error" ||
				expected.type !== "error" ||
				(got.code === expected.code && got.clientId === expected.clientId)) &&
			(got.type !== "welcome" || expected.type !== "welcome" || got.name === expected.name);
		if (!ok) problems.push(`answer ${next}/${nextFromRoom}: got ${describe(got)}, expected ${describe(expected)}`);
		if (got?.type === "error" && typeof got.message !== "string")
			problems.push(`error without a message: ${describe(got)}`);
		if (got?.type === "welcome" && expected.type === "welcome") outcome.welcomes.push({ since, welcome: got });
	};

	const { read, pings, closedBySize } = readable(frames);
	const expectedPongs = pings;
	if (closedBySize) closeBy = SIZE_CLOSE;
	let units = 0;
	let frameStrikes = 0;
	for (const frame of read) {
		// The frame budget first: over it, the frame is not read at all.
		const cost = Math.min(
			FRAME_BUCKET,
			Math.ceil(Math.max(1, typeof frame === "string" ? frame.length : frame.byteLength) / FRAME_UNIT),
		);
		const refill = (observed.sendingMs * FRAME_PER_SECOND) / 1000;
		const peekFrame = answers[next];
		const overBudget =
			units + cost > FRAME_BUCKET + refill ||
			(units + cost > FRAME_BUCKET &&
				peekFrame?.type === "error" &&
				peekFrame.code === "rate_limited" &&
				peekFrame.clientId === undefined &&
				peekFrame.message.startsWith("too many frames"));
		if (overBudget) {
			if (++frameStrikes >= FRAME_STRIKES) {
				closeBy = { code: 1008, reason: "too many messages" };
				outcome.flooded = true;
				break;
			}
			expect({ type: "error", code: "rate_limited" });
			continue;
		}
		frameStrikes = 0;
		units += cost;
		const reading: Reading =
			typeof frame === "string" ? readFrame(frame) : { kind: "error", code: "binary_unsupported" };
		const free =
			(reading.kind === "hello" && name === null) ||
			(reading.kind === "typing" && name !== null) ||
			(reading.kind === "history" && name !== null);
		if (!free) {
			const left = tokenLeft(admitted, observed.sendingMs);
			const clientId = reading.kind === "send" ? reading.clientId : undefined;
			const peek = answers[next];
			// Only when the clock allows both may the answer decide which happened.
			const isRefused =
				left === "no" ||
				(left === "maybe" && peek?.type === "error" && peek.code === "rate_limited" && peek.clientId === clientId);
			if (isRefused) {
				refused++;
				if (refused > STRIKES) {
					closeBy = { code: 1008, reason: "too many messages" };
					outcome.flooded = true;
					break;
				}
				const got = answers[next];
				expect({ type: "error", code: "rate_limited", ...(clientId === undefined ? {} : { clientId }) });
				if (got?.type === "error" && !((got.retryAfterMs ?? 0) > 0))
					problems.push(`rate_limited without retryAfterMs: ${describe(got)}`);
				continue;
			}
			admitted++;
		}
		switch (reading.kind) {
			case "error":
				expect({
					type: "error",
					code: reading.code,
					...(reading.clientId === undefined ? {} : { clientId: reading.clientId }),
				});
				break;
			case "hello":
				if (name !== null) expect({ type: "error", code: "already_joined" });
				else {
					name = reading.name;
					expect({ type: "welcome", name }, reading.since);
				}
				break;
			case "typing":
				if (name === null) expect({ type: "error", code: "not_joined" });
				else outcome.typed = true;
				break;
			case "send":
				if (name === null) expect({ type: "error", code: "not_joined", clientId: reading.clientId });
				// The generator only replies to ids no room reaches (PROTOCOL.md, "Replies": not_found).
				else if (reading.replyTo !== undefined)
					expect({ type: "error", code: "not_found", clientId: reading.clientId });
				else sends.push({ clientId: reading.clientId, text: reading.text, name });
				break;
			case "history": {
				if (name === null) {
					expect({ type: "error", code: "not_joined" });
					break;
				}
				// Pages have a pace of their own: past it, an empty page says when to ask again.
				const peek = answers[next];
				const paced =
					pages >= PAGES &&
					(observed.sendingMs < PAGE_REFILL_MS || (peek?.type === "history" && peek.retryAfterMs !== undefined));
				if (!paced) pages++;
				expect(paced ? { type: "history", retryAfterMs: 1 } : { type: "history" });
				break;
			}
			case "react":
				// Only to ids no room reaches, too: the room holds no such message.
				expect({ type: "error", code: name === null ? "not_joined" : "not_found" });
				break;
			case "read":
			case "settings":
				// The fuzzed room is in open mode, where `read` and `settings` are signed mode's alone.
				expect({ type: "error", code: name === null ? "not_joined" : "forbidden" });
				break;
		}
	}
	if (next !== answers.length) problems.push(`unexpected answers: ${describe(answers.slice(next))}`);
	if (nextFromRoom !== roomAnswers.length)
		problems.push(`unexpected answers of the room: ${describe(roomAnswers.slice(nextFromRoom))}`);
	// The runtime answers pings itself until the Close is sent, so one sent after a frame that
	// closes the connection may be answered too (on a shard, the Close waits for the room): at
	// least one pong per ping the room took, never fewer (PROTOCOL.md, "Closing").
	if (pongs < expectedPongs) problems.push(`${pongs} pongs for ${expectedPongs} pings`);
	checkClose(problems, observed, closeBy);
	checkEchoes(sends, echoes, outcome);
	for (const { welcome } of outcome.welcomes) checkWelcomeShape(problems, welcome);
	return { ...outcome, name };
}

/** Each valid send is echoed once, in order: a first send as a new message, a retry as the first again. */
function checkEchoes(
	sends: readonly { clientId: string; text: string; name: string }[],
	echoes: readonly ChatMessage[],
	outcome: Outcome,
): void {
	const first = new Map<string, ChatMessage>();
	if (echoes.length !== sends.length) {
		outcome.problems.push(`${echoes.length} echoes for ${sends.length} accepted sends: ${describe(echoes)}`);
		return;
	}
	for (const [i, send] of sends.entries()) {
		const { id, clientId, name, text, ts } = echoes[i] as ChatMessage;
		const echo: ChatMessage = { id, clientId, name, text, ts };
		const original = first.get(send.clientId);
		if (original) {
			if (describe(echo) !== describe(original))
				outcome.problems.push(`retry echoed ${describe(echo)}, not ${describe(original)}`);
			continue;
		}
		if (echo.clientId !== send.clientId || echo.text !== send.text || echo.name !== send.name) {
			outcome.problems.push(`echo ${describe(echo)} for send ${describe(send)}`);
		}
		const last = outcome.stored.at(-1);
		if (last && echo.id <= last.id) outcome.problems.push(`echo ids not increasing: ${last.id} then ${echo.id}`);
		first.set(send.clientId, echo);
		outcome.stored.push(echo);
	}
}

/** What a welcome must hold whatever the room's state (its history is checked against the log later). */
function checkWelcomeShape(problems: string[], welcome: WelcomeEvent): void {
	const { members, messageCap, name } = welcome;
	if (!Array.isArray(members) || !members.every((m) => typeof m === "string") || !members.includes(name)) {
		problems.push(`welcome members ${describe(members)} without ${describe(name)}`);
	}
	if (messageCap !== 2_000) problems.push(`welcome messageCap ${messageCap}`);
}

/** Checks a plain connection: its own frames relayed back to it in order (cut to the cap), pongs, the Close. */
export function checkPlain(
	frames: readonly (string | Uint8Array)[],
	observed: Observed,
	ending: { code: number; reason: string },
): Outcome {
	const problems: string[] = [];
	const relayed: (string | Uint8Array)[] = [];
	let counted = 0;
	const { read, pings: expectedPongs, closedBySize } = readable(frames);
	let closeBy = closedBySize ? SIZE_CLOSE : ending;
	let flooded = false;
	const paced = observed.sendingMs >= REFILL_MS;
	for (const frame of read) {
		counted++;
		if (counted > BURST + HOLD) {
			closeBy = { code: 1008, reason: "too many messages" };
			flooded = true;
			break;
		}
		// Over the burst a frame is held (and dropped with the 1008 that follows: floods are 16+).
		if (counted <= BURST) relayed.push(typeof frame === "string" ? plainRelay(frame) : frame);
	}
	const base = { problems, welcomes: [], name: null, typed: false, relayed };
	if (paced && counted > BURST) {
		if (observed.close.code !== closeBy.code && observed.close.code !== 1008) checkClose(problems, observed, closeBy);
		return { ...base, stored: [], flooded: observed.close.code === 1008, exact: false };
	}
	const pongs = observed.frames.filter((f) => f === PONG).length;
	if (pongs < expectedPongs) problems.push(`${pongs} pongs for ${expectedPongs} pings`);
	let at = 0;
	for (const frame of observed.frames)
		if (at < relayed.length && sameFrame(frame, relayed[at] as string | Uint8Array)) at++;
	if (at < relayed.length)
		problems.push(`own frame ${at + 1} of ${relayed.length} never relayed back: ${describe(relayed[at])}`);
	checkClose(problems, observed, closeBy);
	const stored = relayed
		.filter((f): f is string => typeof f === "string" && f.length > 0)
		.map((text) => ({ id: 0, clientId: null, name: "guest", text, ts: 0 }));
	return { ...base, stored, flooded, exact: true };
}

/** Whether two frames carry the same payload and kind. */
export function sameFrame(a: string | Uint8Array, b: string | Uint8Array): boolean {
	if (typeof a === "string" || typeof b === "string") return a === b;
	return Buffer.from(a).equals(Buffer.from(b));
}
