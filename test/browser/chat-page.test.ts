/**
 * The chat page in a real browser: Debian's headless Chromium against the Worker served by
 * workerd (miniflare API) on loopback.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../support/browser.ts";
import { type LocalServer, startMiniflare } from "../support/server.ts";

let server: LocalServer;
let browser: Browser;

beforeAll(async () => {
	[server, browser] = await Promise.all([startMiniflare(), launchChromium()]);
});
afterAll(async () => {
	await browser?.close();
	await server?.stop();
});

/** Opens the page for `room` in its own browser context and waits until it is connected. */
async function openChat(room: string, origin = server.origin): Promise<Page> {
	const context = await browser.newContext();
	const page = await context.newPage();
	page.on("pageerror", (error) => {
		throw error;
	});
	await page.goto(`${origin}/?room=${room}`);
	await page.getByRole("status").getByText("Connected").waitFor();
	return page;
}

async function send(page: Page, text: string): Promise<void> {
	const input = page.getByRole("textbox", { name: "Message" });
	await input.fill(text);
	await input.press("Enter");
}

const messages = (page: Page) => page.getByRole("list", { name: "Messages" }).getByRole("listitem");

describe("chat page", () => {
	it("carries a message typed and submitted in one page to another page in the same room", async () => {
		const [alice, bob] = [await openChat("browser-two"), await openChat("browser-two")];
		await send(alice, "hello from alice");
		await messages(bob).filter({ hasText: "hello from alice" }).waitFor();
		expect(await messages(bob).allTextContents()).toEqual(["hello from alice"]);
		// The sender sees its own message too, its input is cleared and keeps the focus.
		await messages(alice).filter({ hasText: "hello from alice" }).waitFor();
		expect(await alice.getByRole("textbox", { name: "Message" }).inputValue()).toBe("");
		expect(await alice.locator("#message:focus").count()).toBe(1);
	});

	it("shows HTML in a message as literal text, never as markup", async () => {
		const [alice, bob] = [await openChat("browser-xss"), await openChat("browser-xss")];
		let dialogs = 0;
		bob.on("dialog", async (dialog) => {
			dialogs++;
			await dialog.dismiss();
		});
		const attack = "<img src=x onerror=alert(1)>";
		await send(alice, attack);
		await messages(bob).filter({ hasText: attack }).waitFor();
		expect(await messages(bob).first().textContent()).toBe(attack);
		expect(await bob.locator("#messages img").count()).toBe(0);
		// A second, harmless message arriving after it proves the page kept running without a dialog.
		await send(alice, "after");
		await messages(bob).filter({ hasText: "after" }).waitFor();
		expect(dialogs).toBe(0);
	});

	it("never sends an empty or blank message", async () => {
		const [alice, bob] = [await openChat("browser-empty"), await openChat("browser-empty")];
		await send(alice, "   ");
		await send(alice, "real");
		await messages(bob).filter({ hasText: "real" }).waitFor();
		expect(await messages(bob).allTextContents()).toEqual(["real"]);
	});

	it("refuses an invalid room name on the page itself, without opening a socket", async () => {
		const page = await (await browser.newContext()).newPage();
		const sockets: string[] = [];
		page.on("websocket", (socket) => sockets.push(socket.url()));
		await page.goto(`${server.origin}/?room=${encodeURIComponent("not a room!")}`);
		await page.getByRole("status").getByText("Invalid room name").waitFor();
		expect(await page.getByRole("textbox", { name: "Message" }).isDisabled()).toBe(true);
		expect(sockets).toEqual([]);
	});

	it("shows a lost connection and reconnects by itself when the server comes back", async () => {
		const local = await startMiniflare();
		const port = new URL(local.origin).port;
		const page = await openChat("browser-reconnect", local.origin);
		await local.stop();
		await page
			.getByRole("status")
			.getByText(/Connection lost/)
			.waitFor();
		expect(await page.getByRole("button", { name: "Send" }).isDisabled()).toBe(true);

		const again = await startMiniflare({ port: Number(port) });
		try {
			// No click: the page retries on its own (jittered backoff from ~0.5 s, doubling).
			await page.getByRole("status").getByText("Connected").waitFor();
			await send(page, "back again");
			await messages(page).filter({ hasText: "back again" }).waitFor();
		} finally {
			await again.stop();
		}
	});
});
