/**
 * The log on its own, its writer (src/room/message-log.ts) and its reader (src/room/log-reader.ts):
 * a real Durable Object's SQLite storage, no sockets. Each case opens a log in a room no other
 * test uses (its Room never stages anything there).
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { LogReader } from "../../src/room/log-reader.ts";
import { senderKey } from "../../src/room/log-table.ts";
import { type MessageExtras, MessageLog } from "../../src/room/message-log.ts";
import { RoomStore } from "../../src/room/room-store.ts";
import { freshRoom, stubFor } from "./rooms.ts";

/** A message with nothing extra (open mode, no reply, no mentions). */
const plain: MessageExtras = { userId: null, replyTo: null, mentions: [] };

/** What the room does with a send (src/room/conversation.ts): the message its sender gave `clientId` before, or a new one. */
function stage(
	log: MessageLog,
	name: string,
	text: string,
	clientId: string | null,
	ts: number,
	extras: MessageExtras,
) {
	return log.known(senderKey({ name, ...extras }), clientId) ?? log.stageNew(name, text, clientId, ts, extras);
}

/**
 * Runs `use` on a fresh log (retention `retention`) in a room of its own, with a reader that
 * replays `replay` messages to a fresh join.
 */
function withLog<T>(
	retention: number,
	use: (log: MessageLog, storage: DurableObjectStorage, reader: LogReader) => T,
	replay = 10,
): Promise<T> {
	return runInDurableObject(stubFor(freshRoom("log")), (_room, state) => {
		const store = new RoomStore(state.storage);
		const log = new MessageLog(store, retention);
		return use(log, state.storage, new LogReader(store, log, replay));
	});
}

describe("MessageLog", () => {
	it("gives ids in one order at stage time and writes nothing until commit", async () => {
		const written = await withLog(100, (log) => {
			const a = stage(log, "ann", "one", "c1", 1, plain);
			const b = stage(log, "ben", "two", null, 2, plain);
			const before = log.count();
			log.commit();
			return { ids: [a.message.id, b.message.id], before, after: log.count(), latestId: log.latestId };
		});
		expect(written).toEqual({ ids: [1, 2], before: 0, after: 2, latestId: 2 });
	});

	it("stores a clientId once: a resend in the same burst or a later one returns the first message", async () => {
		const statuses = await withLog(100, (log) => {
			const first = stage(log, "ann", "hello", "same", 1, plain);
			const again = stage(log, "ann", "hello (retried)", "same", 2, plain);
			log.commit();
			const later = stage(log, "ann", "hello (after reconnect)", "same", 3, plain);
			log.commit();
			return { first, again, later, count: log.count() };
		});
		expect(statuses.first.status).toBe("new");
		expect(statuses.again).toEqual({ message: statuses.first.message, status: "staged" });
		expect(statuses.later).toEqual({ message: statuses.first.message, status: "stored" });
		expect(statuses.count).toBe(1);
	});

	it("keeps only the newest `retention` messages, and says so to a resume from before them", async () => {
		const replays = await withLog(3, (log, _storage, reader) => {
			for (let i = 1; i <= 5; i++) stage(log, "ann", `m${i}`, null, i, plain);
			log.commit();
			const [all, fromOne, fromThree] = reader.replayAll([undefined, 1, 3].map((since) => ({ since, upTo: 5 })));
			return { all, fromOne, fromThree };
		});
		expect(replays.all?.messages.map((m) => m.id)).toEqual([3, 4, 5]);
		expect(replays.fromOne).toMatchObject({ gap: true, latestId: 5 });
		expect(replays.fromOne?.messages.map((m) => m.id)).toEqual([3, 4, 5]);
		expect(replays.fromThree).toMatchObject({ gap: false, latestId: 5 });
		expect(replays.fromThree?.messages.map((m) => m.id)).toEqual([4, 5]);
	});

	it("replays the newest `limit` without since, and a gap with the newest when since is ahead of it", async () => {
		const replays = await withLog(
			100,
			(log, _storage, reader) => {
				for (let i = 1; i <= 4; i++) stage(log, "ann", `m${i}`, null, i, plain);
				log.commit();
				const [recent, ahead, upToDate] = reader.replayAll([undefined, 99, 4].map((since) => ({ since, upTo: 4 })));
				return { recent, ahead, upToDate };
			},
			2,
		);
		expect(replays.recent).toMatchObject({ gap: false, latestId: 4 });
		expect(replays.recent?.messages.map((m) => ("text" in m ? m.text : null))).toEqual(["m3", "m4"]);
		expect(replays.ahead?.gap).toBe(true);
		expect(replays.ahead?.messages.map((m) => m.id)).toEqual([3, 4]);
		expect(replays.upToDate).toEqual({ messages: [], gap: false, latestId: 4, more: false });
	});

	it("answers a storm of welcomes from one query per run of overlapping resumes and one for fresh joins, each up to the id given at its hello", async () => {
		const outcome = await withLog(
			100,
			(log, storage, reader) => {
				for (let i = 1; i <= 6; i++) stage(log, "ann", `m${i}`, null, i, plain);
				log.commit();
				let queries = 0;
				const exec = storage.sql.exec.bind(storage.sql);
				// Counts the statements the log runs (the real SQL still runs).
				storage.sql.exec = ((query: string, ...bindings: unknown[]) => {
					queries++;
					return exec(query, ...bindings);
				}) as typeof storage.sql.exec;
				const replays = reader.replayAll([
					{ since: undefined, upTo: 6 },
					{ since: undefined, upTo: 5 },
					{ since: 2, upTo: 4 },
					{ since: 5, upTo: 6 },
					{ since: 6, upTo: 6 },
				]);
				storage.sql.exec = exec;
				return { replays, queries };
			},
			3,
		);
		// Fresh joins; the resume from 2 (to 4); those from 5 and 6, which overlap.
		expect(outcome.queries).toBe(3);
		expect(outcome.replays.map((replay) => [replay.messages.map((m) => m.id), replay.gap, replay.latestId])).toEqual([
			[[4, 5, 6], false, 6],
			[[3, 4, 5], false, 5],
			[[3, 4], false, 4],
			[[6], false, 6],
			[[], false, 6],
		]);
	});

	it("gives a shard what it missed between two ids, and says when some are gone", async () => {
		const between = await withLog(3, (log, _storage, reader) => {
			for (let i = 1; i <= 5; i++) stage(log, "ann", `m${i}`, null, i, plain);
			log.commit();
			return { kept: reader.between(3, 5), lost: reader.between(1, 4) };
		});
		expect(between.kept).toMatchObject({ gap: false, messages: [{ id: 4 }, { id: 5 }] });
		expect(between.lost).toMatchObject({ gap: true, messages: [{ id: 3 }, { id: 4 }] });
	});

	it("keeps what a welcome of the burst is owed when later entries of the burst pass the retention", async () => {
		const kept = await withLog(3, (log, _storage, reader) => {
			for (let i = 1; i <= 3; i++) stage(log, "ann", `m${i}`, null, i, plain);
			log.commit();
			// A client says hello with since 0 when the newest id is 3; then two more messages come.
			const upTo = log.latestId;
			stage(log, "ann", "m4", null, 4, plain);
			stage(log, "ann", "m5", null, 5, plain);
			log.commit(upTo);
			const [replay] = reader.replayAll([{ since: 0, upTo }]);
			return { replayed: replay?.messages.map((m) => m.id), stored: log.count() };
		});
		expect(kept).toEqual({ replayed: [1, 2, 3], stored: 5 });
	});

	it("writes nothing of a failed commit and gives its ids again", async () => {
		const outcome = await withLog(100, (log, storage) => {
			stage(log, "ann", "kept", null, 1, plain);
			log.commit();
			storage.sql.exec("DROP TABLE messages");
			storage.sql.exec(
				`CREATE TABLE messages (id INTEGER PRIMARY KEY, sender TEXT, client_id TEXT, name TEXT NOT NULL, text TEXT NOT NULL,
					ts INTEGER NOT NULL, kind TEXT NOT NULL DEFAULT 'message', target INTEGER, user_id TEXT, reply_to INTEGER,
					reply_name TEXT, reply_user_id TEXT, reply_excerpt TEXT, mentions TEXT, edited INTEGER NOT NULL DEFAULT 0,
					deleted INTEGER NOT NULL DEFAULT 0, reactions TEXT, api INTEGER NOT NULL DEFAULT 0, required TEXT NOT NULL)`,
			);
			stage(log, "ann", "lost", "c2", 2, plain);
			let failed = false;
			try {
				log.commit();
			} catch {
				failed = true;
			}
			return { failed, latestId: log.latestId, nextId: stage(log, "ann", "again", "c2", 3, plain) };
		});
		expect(outcome.failed).toBe(true);
		expect(outcome.latestId).toBe(1);
		// The clientId of the lost message is free again, and its id is given again.
		expect(outcome.nextId).toMatchObject({ status: "new", message: { id: 2, text: "again" } });
	});

	it("bounds a resuming welcome to the larger of HISTORY_REPLAY and 100 entries, and says there are more", async () => {
		const replay = await withLog(1_000, (log, _storage, reader) => {
			for (let i = 1; i <= 250; i++) stage(log, "ann", `m${i}`, null, i, plain);
			log.commit();
			const [far, near] = reader.replayAll([
				{ since: 10, upTo: 250 },
				{ since: 200, upTo: 250 },
			]);
			return { far, near, limit: reader.resumeLimit };
		});
		expect(replay.limit).toBe(100);
		expect(replay.far?.messages.map((m) => m.id)).toEqual(Array.from({ length: 100 }, (_, i) => 11 + i));
		expect(replay.far).toMatchObject({ more: true, gap: false, latestId: 250 });
		expect(replay.near?.messages).toHaveLength(50);
		expect(replay.near).toMatchObject({ more: false, gap: false });
	});

	it("pages back through messages as they stand now, and forward through every entry as written", async () => {
		const pages = await withLog(100, (log, _storage, reader) => {
			for (let i = 1; i <= 5; i++) stage(log, "ann", `m${i}`, null, i, { ...plain, userId: "u-ann" });
			log.stageChange({ kind: "edit", text: "m2, edited" }, 2, "ann", { userId: "u-ann" }, 6);
			log.stageChange({ kind: "delete" }, 3, "ann", { userId: "u-ann" }, 7);
			stage(log, "ann", "m8", null, 8, plain);
			log.commit();
			return {
				back: reader.page({ before: 8, after: null, limit: 3 }),
				start: reader.page({ before: 3, after: null, limit: 3 }),
				forward: reader.page({ before: null, after: 4, limit: 3 }),
				end: reader.page({ before: null, after: 7, limit: 3 }),
			};
		});
		// Messages only, oldest first, as they stand now: 2 edited, 3 deleted and emptied.
		expect(pages.back.entries.map((m) => [m.id, "text" in m ? m.text : null])).toEqual([
			[3, ""],
			[4, "m4"],
			[5, "m5"],
		]);
		expect(pages.back.entries[0]).toMatchObject({ deleted: true });
		expect(pages.back.more).toBe(true);
		expect(pages.start.entries).toMatchObject([{ id: 1 }, { id: 2, text: "m2, edited", edited: true }]);
		expect(pages.start.more).toBe(false);
		// Every entry after 4, the edit and delete included.
		expect(pages.forward.entries.map((entry) => ["kind" in entry ? entry.kind : "message", entry.id])).toEqual([
			["message", 5],
			["edit", 6],
			["delete", 7],
		]);
		expect(pages.forward).toMatchObject({ type: "history", after: 4, more: true, gap: false });
		expect(pages.end).toMatchObject({ entries: [{ id: 8 }], more: false });
	});

	it("empties the excerpt replies quote of a message once it is deleted", async () => {
		const page = await withLog(100, (log, _storage, reader) => {
			stage(log, "ann", "the original words", null, 1, { ...plain, userId: "u-ann" });
			const replyTo = { id: 1, name: "ann", userId: "u-ann", excerpt: "the original words" };
			stage(log, "bob", "a reply", null, 2, { userId: "u-bob", replyTo, mentions: ["ann"] });
			log.commit();
			log.stageChange({ kind: "delete" }, 1, "ann", { userId: "u-ann" }, 3);
			log.commit();
			return reader.page({ before: 99, after: null, limit: 10 });
		});
		expect(page.entries).toMatchObject([
			{ id: 1, text: "", deleted: true },
			{ id: 2, text: "a reply", replyTo: { id: 1, name: "ann", userId: "u-ann", excerpt: "" }, mentions: ["ann"] },
		]);
	});

	it("counts messages for retention: 1,500 reactions and edits push no message out, and each supersedes the one before", async () => {
		const outcome = await withLog(3, (log, storage, reader) => {
			for (let i = 1; i <= 3; i++) stage(log, "ann", `m${i}`, null, i, { ...plain, userId: "u-ann" });
			log.commit();
			for (let i = 0; i < 1_500; i++) {
				const target = 1 + (i % 3);
				if (i % 2 === 0) log.stageReactions(target, 10 + i);
				else
					log.stageChange({ kind: "edit", text: `m${target} edit ${i}` }, target, "ann", { userId: "u-ann" }, 10 + i);
				log.commit();
			}
			const kinds = storage.sql
				.exec<{ kind: string; n: number }>("SELECT kind, count(*) AS n FROM messages GROUP BY kind ORDER BY kind")
				.toArray();
			const [fresh] = reader.replayAll([{ since: undefined, upTo: log.latestId }]);
			return { kinds, fresh: fresh?.messages.map((m) => ("text" in m ? m.text : null)), floor: log.floor };
		});
		// Three messages, and for each at most its latest edit and its latest reactions entry.
		expect(outcome.kinds).toEqual([
			{ kind: "edit", n: 3 },
			{ kind: "message", n: 3 },
			{ kind: "reactions", n: 3 },
		]);
		expect(outcome.fresh).toEqual(["m1 edit 1497", "m2 edit 1495", "m3 edit 1499"]);
		expect(outcome.floor).toBe(0);
	});

	it("reads each resume's own window: two resumes far apart read their windows, not what lies between", async () => {
		const outcome = await withLog(10_000, (log, storage, reader) => {
			for (let i = 1; i <= 2_000; i++) stage(log, "ann", `m${i}`, null, i, plain);
			log.commit();
			let rowsRead = 0;
			const exec = storage.sql.exec.bind(storage.sql);
			storage.sql.exec = ((query: string, ...bindings: unknown[]) => {
				const cursor = exec(query, ...bindings);
				const rows = cursor.toArray();
				rowsRead += rows.length;
				return { toArray: () => rows, one: () => rows[0] } as unknown as ReturnType<typeof exec>;
			}) as typeof storage.sql.exec;
			const replays = reader.replayAll([
				{ since: 10, upTo: 2_000 },
				{ since: 1_990, upTo: 2_000 },
			]);
			storage.sql.exec = exec;
			return { rowsRead, ids: replays.map((replay) => replay.messages.map((m) => m.id)) };
		});
		expect(outcome.ids[0]).toEqual(Array.from({ length: 100 }, (_, i) => 11 + i));
		expect(outcome.ids[1]).toEqual(Array.from({ length: 10 }, (_, i) => 1_991 + i));
		// 100 and 10 rows, not the 1,990 between the two.
		expect(outcome.rowsRead).toBe(110);
	});
});
