/**
 * A reaction storm, run by the load generator (bench/load.ts): `members` rich clients in one room,
 * one message, and every member reacting to it once, at a random moment within `seconds`. It
 * reads what each member received meanwhile (frames, bytes, `reactions` events) and checks that
 * every member ends with the message counted by all of them: the room is to send one aggregated
 * update per message per burst (PROTOCOL.md, "Reactions"), not one event per reaction per member.
 */
import { performance } from "node:perf_hooks";
import WebSocket from "ws";

/** What the reaction storm measured. */
export interface ReactionStormResult {
	members: number;
	/** Per member, from the message's arrival until the last reaction was counted. */
	framesPerMember: { mean: number; max: number };
	bytesPerMember: { mean: number; max: number };
	reactionEventsPerMember: { mean: number; max: number };
	/** Log entries the storm took (one per burst that changed the message's reactions). */
	logEntries: number;
	/** From the first reaction sent until every member had the full count. */
	allCountedMs: number;
	/** Members whose last update did not count every member (0: none lost). */
	lost: number;
}

/** One member: its socket and what it has received since the message. */
interface Member {
	socket: WebSocket;
	frames: number;
	bytes: number;
	reactionEvents: number;
	/** The message's count in the last `reactions` event, and that event's log id. */
	count: number;
	lastEntry: number;
}

/** Opens one rich member and resolves once welcomed. */
function join(url: string, name: string, target: () => number): Promise<Member> {
	return new Promise((resolve, reject) => {
		// Offer permessage-deflate as every browser does; the server decides whether to take it.
		const socket = new WebSocket(url, ["edgechat.v1"], { perMessageDeflate: true });
		const member: Member = { socket, frames: 0, bytes: 0, reactionEvents: 0, count: 0, lastEntry: 0 };
		socket.on("open", () => socket.send(JSON.stringify({ type: "hello", name })));
		socket.on("message", (data) => {
			const text = data.toString();
			if (target() > 0) {
				member.frames++;
				member.bytes += Buffer.byteLength(text);
			}
			const event = JSON.parse(text);
			for (const single of event.type === "batch" ? event.events : [event]) {
				if (single.type === "welcome") resolve(member);
				if (single.type === "reactions" && single.target === target()) {
					member.reactionEvents++;
					member.count = single.reactions[0]?.count ?? 0;
					member.lastEntry = single.id;
				}
			}
		});
		socket.on("error", reject);
	});
}

const stats = (values: number[]) => ({
	mean: values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length),
	max: Math.max(0, ...values),
});

/** Waits until `ready()` holds (checked every 5 ms) or `ms` pass; says whether it held. */
async function until(ready: () => boolean, ms: number): Promise<boolean> {
	const started = performance.now();
	while (!ready() && performance.now() - started < ms) await new Promise((resolve) => setTimeout(resolve, 5));
	return ready();
}

/** Runs one reaction storm on the room URL `url`. */
export async function reactionStorm(url: string, members: number, seconds: number): Promise<ReactionStormResult> {
	let messageId = 0;
	const target = () => messageId;
	const joined: Member[] = [];
	for (let i = 0; i < members; i += 100) {
		const batch = [];
		for (let j = i; j < Math.min(members, i + 100); j++) batch.push(join(url, `r${j}`, target));
		joined.push(...(await Promise.all(batch)));
	}
	// The message everyone reacts to: its id, from its echo to the poster.
	const poster = joined[0] as Member;
	const echoed = new Promise<number>((resolve) => {
		poster.socket.on("message", (data) => {
			const event = JSON.parse(data.toString());
			for (const single of event.type === "batch" ? event.events : [event])
				if (single.type === "message" && single.clientId === "react-here") resolve(single.id);
		});
	});
	poster.socket.send(JSON.stringify({ type: "send", clientId: "react-here", text: "react to this" }));
	messageId = await echoed;
	for (const member of joined) {
		member.frames = 0;
		member.bytes = 0;
	}
	process.send?.({ phase: "sending" });
	const started = performance.now();
	const react = JSON.stringify({ type: "react", id: messageId, emoji: "👍", on: true });
	const timers = joined.map((member) => setTimeout(() => member.socket.send(react), Math.random() * seconds * 1000));
	const counted = await until(() => joined.every((member) => member.count === members), 30_000 + seconds * 1000);
	const allCountedMs = performance.now() - started;
	process.send?.({ phase: "drained" });
	for (const timer of timers) clearTimeout(timer);
	const lastEntry = Math.max(...joined.map((member) => member.lastEntry));
	for (const member of joined) member.socket.terminate();
	return {
		members,
		framesPerMember: stats(joined.map((member) => member.frames)),
		bytesPerMember: stats(joined.map((member) => member.bytes)),
		reactionEventsPerMember: stats(joined.map((member) => member.reactionEvents)),
		logEntries: lastEntry - messageId,
		allCountedMs: counted ? allCountedMs : Number.NaN,
		lost: joined.filter((member) => member.count !== members).length,
	};
}
