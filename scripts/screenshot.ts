/**
 * `npm run screenshot`: renders the chat page with a short conversation in headless Chromium
 * (phone-sized and desktop-sized) and writes docs/screenshot.png for the README.
 */
import path from "node:path";
import { launchChromium } from "../test/support/browser.ts";
import { ROOT, startMiniflare } from "../test/support/server.ts";

const server = await startMiniflare();
const browser = await launchChromium();
try {
	const open = async (width: number, height: number) => {
		const page = await (await browser.newContext({ viewport: { width, height }, deviceScaleFactor: 1 })).newPage();
		await page.goto(`${server.origin}/?room=lobby`);
		await page.getByRole("status").getByText("Connected").waitFor();
		return page;
	};
	const desktop = await open(900, 560);
	const phone = await open(390, 560);
	const lines = ["Hi! Is anyone here?", "Yes, hello from the edge!", "<b>HTML</b> shows up as text", "Nice and fast."];
	for (const [i, line] of lines.entries()) {
		const page = i % 2 ? phone : desktop;
		const input = page.getByRole("textbox", { name: "Message" });
		await input.fill(line);
		await input.press("Enter");
		await desktop.getByRole("listitem").filter({ hasText: line }).waitFor();
	}
	await desktop.getByRole("textbox", { name: "Message" }).fill("Typing a reply…");
	await desktop.screenshot({ path: path.join(ROOT, "docs/screenshot.png") });
	console.log("wrote docs/screenshot.png");
} finally {
	await browser.close();
	await server.stop();
}
