/**
 * The log (src/room/message-log.ts) on its own: a real Durable Object's SQLite storage, no sockets.
 * Each case opens a log in a room no other test uses (its Room never stages anything there).
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { MessageLog } from "../../src/room/message-log.ts";
import { freshRoom, stubFor } from "./rooms.ts";

/** Runs `use` on a fresh log (retention `retention`) in a room of its own. */
function withLog<T>(retention: number, use: (log: MessageLog, storage: DurableObjectStorage) => T): Promise<T> {
	return runInDurableObject(stubFor(freshRoom("log")), (_room, state) =>
		use(new MessageLog(state.storage, retention), state.storage),
	);
}

describe("MessageLog", () => {
	it("gives ids in one order at stage time and writes nothing until commit", async () => {
		const written = await withLog(100, (log) => {
			const a = log.stage("ann", "one", "c1", 1);
			const b = log.stage("ben", "two", null, 2);
			const before = log.count();
			log.commit();
			return { ids: [a.message.id, b.message.id], before, after: log.count(), latestId: log.latestId };
		});
		expect(written).toEqual({ ids: [1, 2], before: 0, after: 2, latestId: 2 });
	});

	it("stores a clientId once: a resend in the same burst or a later one returns the first message", async () => {
		const statuses = await withLog(100, (log) => {
			const first = log.stage("ann", "hello", "same", 1);
			const again = log.stage("ann", "hello (retried)", "same", 2);
			log.commit();
			const later = log.stage("ann", "hello (after reconnect)", "same", 3);
			log.commit();
			return { first, again, later, count: log.count() };
		});
		expect(statuses.first.status).toBe("new");
		expect(statuses.again).toEqual({ message: statuses.first.message, status: "staged" });
		expect(statuses.later).toEqual({ message: statuses.first.message, status: "stored" });
		expect(statuses.count).toBe(1);
	});

	it("keeps only the newest `retention` messages, and says so to a resume from before them", async () => {
		const replays = await withLog(3, (log) => {
			for (let i = 1; i <= 5; i++) log.stage("ann", `m${i}`, null, i);
			log.commit();
			const [all, fromOne, fromThree] = log.replayAll(
				[undefined, 1, 3].map((since) => ({ since, upTo: 5 })),
				10,
			);
			return { all, fromOne, fromThree };
		});
		expect(replays.all?.messages.map((m) => m.id)).toEqual([3, 4, 5]);
		expect(replays.fromOne).toMatchObject({ gap: true, latestId: 5 });
		expect(replays.fromOne?.messages.map((m) => m.id)).toEqual([3, 4, 5]);
		expect(replays.fromThree).toMatchObject({ gap: false, latestId: 5 });
		expect(replays.fromThree?.messages.map((m) => m.id)).toEqual([4, 5]);
	});

	it("replays the newest `limit` without since, and a gap with the newest when since is ahead of it", async () => {
		const replays = await withLog(100, (log) => {
			for (let i = 1; i <= 4; i++) log.stage("ann", `m${i}`, null, i);
			log.commit();
			const [recent, ahead, upToDate] = log.replayAll(
				[undefined, 99, 4].map((since) => ({ since, upTo: 4 })),
				2,
			);
			return { recent, ahead, upToDate };
		});
		expect(replays.recent).toMatchObject({ gap: false, latestId: 4 });
		expect(replays.recent?.messages.map((m) => ("text" in m ? m.text : null))).toEqual(["m3", "m4"]);
		expect(replays.ahead?.gap).toBe(true);
		expect(replays.ahead?.messages.map((m) => m.id)).toEqual([3, 4]);
		expect(replays.upToDate).toEqual({ messages: [], gap: false, latestId: 4 });
	});

	it("answers a storm of welcomes from one query, each up to the id given when it said hello", async () => {
		const outcome = await withLog(100, (log, storage) => {
			for (let i = 1; i <= 6; i++) log.stage("ann", `m${i}`, null, i);
			log.commit();
			let queries = 0;
			const exec = storage.sql.exec.bind(storage.sql);
			// Counts the statements the log runs (the real SQL still runs).
			storage.sql.exec = ((query: string, ...bindings: unknown[]) => {
				queries++;
				return exec(query, ...bindings);
			}) as typeof storage.sql.exec;
			const replays = log.replayAll(
				[
					{ since: undefined, upTo: 6 },
					{ since: 2, upTo: 4 },
					{ since: 5, upTo: 6 },
					{ since: 6, upTo: 6 },
				],
				3,
			);
			storage.sql.exec = exec;
			return { replays, queries };
		});
		expect(outcome.queries).toBe(1);
		expect(outcome.replays.map((replay) => [replay.messages.map((m) => m.id), replay.gap, replay.latestId])).toEqual([
			[[4, 5, 6], false, 6],
			[[3, 4], false, 4],
			[[6], false, 6],
			[[], false, 6],
		]);
	});

	it("gives a shard what it missed between two ids, and says when some are gone", async () => {
		const between = await withLog(3, (log) => {
			for (let i = 1; i <= 5; i++) log.stage("ann", `m${i}`, null, i);
			log.commit();
			return { kept: log.between(3, 5), lost: log.between(1, 4) };
		});
		expect(between.kept).toMatchObject({ gap: false, messages: [{ id: 4 }, { id: 5 }] });
		expect(between.lost).toMatchObject({ gap: true, messages: [{ id: 3 }, { id: 4 }] });
	});

	it("keeps what a welcome of the burst is owed when later entries of the burst pass the retention", async () => {
		const kept = await withLog(3, (log) => {
			for (let i = 1; i <= 3; i++) log.stage("ann", `m${i}`, null, i);
			log.commit();
			// A client says hello with since 0 when the newest id is 3; then two more messages come.
			const upTo = log.latestId;
			log.stage("ann", "m4", null, 4);
			log.stage("ann", "m5", null, 5);
			log.commit(upTo);
			const [replay] = log.replayAll([{ since: 0, upTo }], 10);
			return { replayed: replay?.messages.map((m) => m.id), stored: log.count() };
		});
		expect(kept).toEqual({ replayed: [1, 2, 3], stored: 5 });
	});

	it("writes nothing of a failed commit and gives its ids again", async () => {
		const outcome = await withLog(100, (log, storage) => {
			log.stage("ann", "kept", null, 1);
			log.commit();
			storage.sql.exec("DROP TABLE messages");
			storage.sql.exec(
				"CREATE TABLE messages (id INTEGER PRIMARY KEY, client_id TEXT UNIQUE, name TEXT NOT NULL, text TEXT NOT NULL, ts INTEGER NOT NULL, kind TEXT NOT NULL DEFAULT 'message', target INTEGER, user_id TEXT, required TEXT NOT NULL)",
			);
			log.stage("ann", "lost", "c2", 2);
			let failed = false;
			try {
				log.commit();
			} catch {
				failed = true;
			}
			return { failed, latestId: log.latestId, nextId: log.stage("ann", "again", "c2", 3) };
		});
		expect(outcome.failed).toBe(true);
		expect(outcome.latestId).toBe(1);
		// The clientId of the lost message is free again, and its id is given again.
		expect(outcome.nextId).toMatchObject({ status: "new", message: { id: 2, text: "again" } });
	});
});
