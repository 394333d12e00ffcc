/**
 * `npm run screenshot`: renders the chat page with a short conversation in headless Chromium
 * (phone-sized and desktop-sized) and writes docs/screenshot.png for the README.
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
		await page.waitForFunction(`document.getElementById("my-name").textContent === ${JSON.stringify(name)}`);
		return page;
	};
	const desktop = await open("Ada", 900, 560);
	const phone = await open("Grace", 390, 700);
	const lines = ["Hi! Is anyone here?", "Yes, hello from the edge!", "<b>HTML</b> shows up as text", "Nice and fast."];
	for (const [i, line] of lines.entries()) {
		const page = i % 2 ? phone : desktop;
		const input = page.getByRole("textbox", { name: "Message" });
		await input.fill(line);
		await input.press("Enter");
		await desktop.locator("li[data-id]").filter({ hasText: line }).waitFor();
	}
	await phone.getByRole("textbox", { name: "Message" }).fill("Typing a reply");
	await desktop.getByText("Grace is typing…").waitFor();
	await phone.screenshot({ path: path.join(ROOT, "docs/screenshot-phone.png") });
	await desktop.screenshot({ path: path.join(ROOT, "docs/screenshot.png") });
	console.log("wrote docs/screenshot.png and docs/screenshot-phone.png");
} finally {
	await browser.close();
	await server.stop();
}
