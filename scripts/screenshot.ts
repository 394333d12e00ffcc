/**
 * `npm run screenshot`: renders the chat page with a short conversation in headless Chromium
 * (phone-sized and desktop-sized): a run of one person's messages, a multi-line message with a
 * link, a mention, a reply with its quote, reactions, someone typing. Writes docs/screenshot.png and docs/screenshot-phone.png for
 * the README.
 */
import path from "node:path";
import { launchChromium } from "../test/support/browser.ts";
import { ROOT, startMiniflare } from "./local-server.ts";

const server = await startMiniflare();
const browser = await launchChromium();
try {
	const open = async (name: string, width: number, height: number) => {
		const page = await (await browser.newContext({ viewport: { width, height }, deviceScaleFactor: 1 })).newPage();
		await page.goto(`${server.origin}/?room=lobby`);
		await page.getByRole("textbox", { name: "Your name" }).fill(name);
		await page.getByRole("button", { name: "Join" }).click();
		// On a phone the member list is folded away; the (hidden) "You are NAME" line still tells.
		await page.locator("#my-name").getByText(name, { exact: true }).waitFor({ state: "attached" });
		return page;
	};
	const desktop = await open("Ada", 900, 640);
	const phone = await open("Grace", 390, 760);
	const stored = (text: string) => desktop.locator("li[data-id]").filter({ hasText: text });
	const say = async (page: typeof desktop, line: string) => {
		const input = page.getByRole("textbox", { name: "Message" });
		await input.fill(line);
		await input.press("Enter");
		await stored(line.split("\n")[0] as string).waitFor();
	};
	await say(desktop, "Hi! Is anyone here?");
	// A run of one person's messages shows the name and time once.
	await say(desktop, "I just deployed this room.");
	await say(phone, "Yes, hello from the edge!\nThe notes are at https://example.com/notes");
	await say(desktop, "@Grace thanks, <b>HTML</b> shows up as text");
	// Grace answers Ada's first message, and both react.
	await phone
		.locator("li[data-id]")
		.filter({ hasText: "Is anyone here" })
		.getByRole("button", { name: "Reply to Ada" })
		.click();
	await say(phone, "Replies quote what they answer.");
	for (const page of [phone, desktop]) {
		const message = page.locator("li[data-id]").filter({ hasText: "Replies quote" });
		await message.getByRole("button", { name: "React to Grace's message" }).click();
		await message.getByRole("button", { name: "React 🎉" }).click();
	}
	await stored("Replies quote").getByRole("button", { name: /🎉 2/ }).waitFor();
	await phone.getByRole("textbox", { name: "Message" }).fill("Typing a reply");
	await desktop.getByText("Grace is typing…").waitFor();
	await phone.screenshot({ path: path.join(ROOT, "docs/screenshot-phone.png") });
	await desktop.screenshot({ path: path.join(ROOT, "docs/screenshot.png") });
	console.log("wrote docs/screenshot.png and docs/screenshot-phone.png");
} finally {
	await browser.close();
	await server.stop();
}
