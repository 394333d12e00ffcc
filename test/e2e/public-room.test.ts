/**
 * The cheapest way to bill a public room's operator, played over loopback against the real
 * Worker: a script asks about rooms by made-up names. Each request reaches (and so creates) a
 * room's object; what matters is that none of them keeps anything (docs/operating.md, "Running a
 * public room"). The objects' databases are read from the server's storage directory with Node's own
 * SQLite (a fresh local object has an empty database file, which is what "nothing kept" is here).
 */
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMiniflare } from "../../scripts/local-server.ts";
import { joinRich } from "../support/rich-client.ts";
import { freshRoom } from "../support/room-names.ts";

let server: Awaited<ReturnType<typeof startMiniflare>>;
let persistDir: string;

beforeAll(async () => {
	persistDir = await mkdtemp(path.join(tmpdir(), "edgechat-public-room-"));
	server = await startMiniflare({ persistDir });
});
afterAll(async () => {
	await server?.stop();
	await rm(persistDir, { recursive: true, force: true });
});

/** The tables of every room object's database in the storage directory, by file. */
async function tablesPerRoom(): Promise<string[][]> {
	const dir = path.join(persistDir, "do", "edgechat-Room");
	const files = (await readdir(dir)).filter((file) => file.endsWith(".sqlite") && file !== "metadata.sqlite");
	return files.map((file) => {
		const db = new DatabaseSync(path.join(dir, file), { readOnly: true });
		try {
			return db
				.prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
				.all()
				.map((row) => String(row.name));
		} finally {
			db.close();
		}
	});
}

describe("asking about rooms by made-up names", () => {
	it("keeps nothing for any of them: asks, stats and a visitor who joins and leaves write no table", async () => {
		const names = Array.from({ length: 30 }, () => freshRoom("made-up"));
		for (const name of names) {
			const ask = await fetch(`${server.origin}/api/rooms/${name}/websocket`);
			expect(ask.status).toBe(426);
			const stats = await fetch(`${server.origin}/api/rooms/${name}`);
			expect(stats.status).toBe(200);
		}
		const visitor = await joinRich(server.socketUrl(names[0] as string), "visitor");
		visitor.client.socket.close(1000);
		await visitor.client.closed;
		// A room someone wrote in keeps its log: the one thing here worth keeping.
		const writer = await joinRich(server.socketUrl("worth-keeping"), "writer");
		writer.send("kept", "k-1");
		await writer.until(() => writer.messages.some((message) => message.clientId === "k-1"));
		await expect
			.poll(
				async () => {
					const perRoom = await tablesPerRoom();
					return { rooms: perRoom.length, keeping: perRoom.filter((tables) => tables.length > 0).length };
				},
				{ timeout: 10_000 },
			)
			.toEqual({ rooms: names.length + 1, keeping: 1 });
		expect((await tablesPerRoom()).find((tables) => tables.length > 0)).toContain("messages");
	});
});
