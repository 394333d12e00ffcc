/**
 * The page in a room past `PRESENCE_LIMIT` (2 on this server): who comes and goes reaches it as
 * coalesced `presence` events (PROTOCOL.md, "Presence"), and it shows the room's count and the
 * names it knows.
 */
import { describe, expect, it } from "vitest";
import { person } from "../support/chat-page.ts";
import { usePageFixture } from "../support/page-fixture.ts";
import { joinRich } from "../support/rich-client.ts";

const fixture = usePageFixture({ vars: { PRESENCE_LIMIT: "2" } });

describe("chat page past PRESENCE_LIMIT", () => {
	it("shows the count and the names of who came and went, from presence events", async () => {
		const context = await person(fixture.browser);
		const page = await context.newPage();
		page.on("pageerror", (error) => {
			throw error;
		});
		await page.goto(`${fixture.server.origin}/?room=big-room`);
		const dialog = page.getByRole("dialog", { name: "Join the chat" });
		await dialog.getByRole("textbox", { name: "Your name" }).fill("Alice");
		await dialog.getByRole("button", { name: "Join" }).click();
		const members = page.getByRole("list", { name: "Members" }).getByRole("listitem");
		await members.filter({ hasText: "Alice" }).waitFor();
		const url = fixture.server.socketUrl("big-room");
		const others = [await joinRich(url, "Bo"), await joinRich(url, "Cy"), await joinRich(url, "Di")];
		// Past the limit: no join events, one presence event a second at most, with the count.
		await others[0]?.until(() => others[0]?.events.some((event) => event.type === "presence") ?? false);
		expect(others[0]?.events.filter((event) => event.type === "join")).toEqual([]);
		await page.getByText("4 online").waitFor();
		for (const name of ["Bo", "Cy", "Di"]) await members.filter({ hasText: name }).waitFor();
		others[1]?.client.socket.close(1000);
		others[2]?.client.socket.close(1000);
		await page.getByText("2 online").waitFor();
		expect(await members.allTextContents()).toEqual(["Alice", "Bo"]);
		await context.close();
	});
});
