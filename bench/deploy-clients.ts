/**
 * The members of the local deploy (bench/deploy.ts): `members` rich clients of the client
 * library (public/client/, the page's own reconnect and resume), run in this process pinned to
 * the load core. Told by the orchestrator over IPC:
 *
 * - `{ join }`: connect every member (in steps of 200) and answer `{ joined }` once each is
 *   welcomed and counts the whole room;
 * - `{ down }`: the server has just been stopped; `senders` members each send one message at once
 *   (the library holds it until it is back), and the answer `{ back }` comes once every member is
 *   welcomed again, has every message the senders sent exactly once, and counts the whole room.
 */
import { performance } from "node:perf_hooks";
import { type Chat, connect } from "../public/client/index.js";

/** What one member saw since the server went down. */
interface Member {
	chat: Chat;
	/** Welcomed again since the server went down. */
	back: boolean;
	/** When, in ms since the server went down (`down`). */
	backAt: number;
	/** Message ids received since the server went down, with how many times each. */
	seen: Map<number, number>;
}

/** What the deploy measured, as this process saw it. */
export interface DeployClientsResult {
	/** From the server's stop until every member was welcomed again (`null`: not all were). */
	allBackMs: number | null;
	/** Until every member also had every message sent meanwhile and counted the whole room. */
	allCaughtUpMs: number | null;
	/** Messages sent while the server was down: each stored once (the same id for its resends). */
	sent: number;
	/** Member-messages missing at the end (0: none lost), and received twice (0: none duplicated). */
	lost: number;
	duplicated: number;
	/** Members whose count of the room is not the room's size at the end. */
	countsOff: number;
	/** Members not back at all when the wait gave up. */
	notBack: number;
	/** Why sockets closed (or upgrades were refused) while members came back: code, and how often. */
	closes: Record<string, number>;
	/** When members were welcomed again, from the stop (ms): the median, the 90th percentile. */
	backP50Ms: number;
	backP90Ms: number;
}

type Order = { join: { url: string; members: number } } | { down: { senders: number; waitMs: number } };

const members: Member[] = [];
/** Why members' sockets closed or were refused while coming back, by code, since the server went down. */
const closes = new Map<string, number>();
/** When the server went down (performance.now()). */
let wentDown = 0;

/** Waits until `ready()` holds (checked every 20 ms) or `ms` pass; says whether it held. */
async function until(ready: () => boolean, ms: number): Promise<boolean> {
	const started = performance.now();
	while (!ready() && performance.now() - started < ms) await new Promise((resolve) => setTimeout(resolve, 20));
	return ready();
}

async function join(url: string, count: number): Promise<number> {
	const started = performance.now();
	for (let i = 0; i < count; i += 200) {
		const step: Promise<void>[] = [];
		for (let j = i; j < Math.min(count, i + 200); j++) {
			const chat = connect({ url, room: "deploy", name: `m${j}` });
			const member: Member = { chat, back: false, backAt: 0, seen: new Map() };
			const saw = (id: number) => member.seen.set(id, (member.seen.get(id) ?? 0) + 1);
			// A resume's welcome carries what was stored since (the page shows it from there); live
			// messages come one by one.
			chat.on("welcome", ({ welcome }) => {
				if (!member.back) member.backAt = performance.now() - wentDown;
				member.back = true;
				for (const entry of welcome.history) if (!("kind" in entry)) saw(entry.id);
			});
			chat.on("message", (message) => saw(message.id));
			chat.on("state", ({ state, code }) => {
				if (state !== "waiting" || wentDown === 0) return;
				const key = String(code ?? "none");
				closes.set(key, (closes.get(key) ?? 0) + 1);
			});
			members.push(member);
			step.push(new Promise((resolve) => chat.on("welcome", () => resolve())));
		}
		await Promise.all(step);
	}
	if (!(await until(() => members.every((member) => member.chat.memberCount === count), 60_000))) {
		throw new Error("the members never all counted the whole room");
	}
	return performance.now() - started;
}

/** The `q` quantile of the members' return times (ms). */
function percentile(all: Member[], q: number): number {
	const times = all.map((member) => member.backAt).sort((a, b) => a - b);
	return times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? 0;
}

async function down(senders: number, waitMs: number): Promise<DeployClientsResult> {
	const started = performance.now();
	wentDown = started;
	for (const member of members) {
		member.back = false;
		member.seen.clear();
	}
	// Sent while the server is down: the library holds them and resends until stored.
	const stored = await Promise.all(
		members.slice(0, senders).map((member, i) => member.chat.send(`sent during the deploy ${i}`)),
	);
	const ids = stored.map((message) => message.id);
	const allBack = await until(() => members.every((member) => member.back), waitMs);
	const allBackMs = performance.now() - started;
	const everyone = members.length;
	const caughtUp = () =>
		members.every((member) => member.chat.memberCount === everyone && ids.every((id) => member.seen.has(id)));
	const allCaught = allBack && (await until(caughtUp, waitMs));
	const allCaughtUpMs = performance.now() - started;
	let lost = 0;
	let duplicated = 0;
	for (const member of members) {
		for (const id of ids) if (!member.seen.has(id)) lost++;
		for (const times of member.seen.values()) if (times > 1) duplicated += times - 1;
	}
	return {
		allBackMs: allBack ? allBackMs : null,
		allCaughtUpMs: allCaught ? allCaughtUpMs : null,
		sent: new Set(ids).size,
		lost,
		duplicated,
		countsOff: members.filter((member) => member.chat.memberCount !== everyone).length,
		notBack: members.filter((member) => !member.back).length,
		closes: Object.fromEntries(closes),
		backP50Ms: percentile(members, 0.5),
		backP90Ms: percentile(members, 0.9),
	};
}

process.on("message", async (order: Order) => {
	try {
		if ("join" in order) process.send?.({ joined: await join(order.join.url, order.join.members) });
		else process.send?.({ back: await down(order.down.senders, order.down.waitMs) });
	} catch (error) {
		process.send?.({ error: String(error) });
	}
});
process.on("disconnect", () => {
	for (const member of members) member.chat.close();
	process.exit(0);
});
process.send?.({ ready: true });
