/**
 * History is durable: it survives stopping and starting `wrangler dev` with persisted state
 * (`--persist-to`), as it survives a deploy or a machine move in production.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, startWranglerDev } from "../../scripts/local-server.ts";
import { joinRich } from "../support/rich-client.ts";

let persistDir: string;
beforeAll(async () => {
	persistDir = await mkdtemp(path.join(tmpdir(), "edgechat-persist-"));
});
afterAll(() => rm(persistDir, { recursive: true, force: true }));

describe("restart with persisted state", () => {
	it("keeps every message and its id across a restart of wrangler dev", async () => {
		const port = await freePort();
		const first = await startWranglerDev({ port, persistDir });
		try {
			const alice = await joinRich(first.socketUrl("durable"), "alice");
			alice.send("before the restart", "p1");
			alice.send("also before", "p2");
			await alice.until(() => alice.messages.length === 2);
		} finally {
			await first.stop();
		}

		const second = await startWranglerDev({ port, persistDir });
		try {
			const bob = await joinRich(second.socketUrl("durable"), "bob");
			expect(bob.messages.map((m) => [m.id, m.name, m.text])).toEqual([
				[1, "alice", "before the restart"],
				[2, "alice", "also before"],
			]);
			// Ids carry on from where they were, and a sender's retried ids are still recognised.
			bob.send("after", "p3");
			await bob.until(() => bob.messages.length === 3);
			expect(bob.messages.map((m) => m.id)).toEqual([1, 2, 3]);
			const alice = await joinRich(second.socketUrl("durable"), "alice", 3);
			alice.send("before the restart", "p1");
			await alice.until(() => alice.messages.some((m) => m.clientId === "p1"));
			expect(alice.messages.find((m) => m.clientId === "p1")?.id).toBe(1);
		} finally {
			await second.stop();
		}
	});
});
