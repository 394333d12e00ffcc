/**
 * The page's security headers (public/_headers; docs/operating.md, "Security headers") as a browser gets
 * them from the server: on the page, its scripts and the client library; what they are there
 * for (the page cannot be framed, and inline script or style injected into it does not run), and
 * what they must not break (a page of another origin still imports the client library; the page
 * still connects). That the page itself breaks none of them, feature by feature, is checked after
 * every browser test (../support/chat-page.ts keeps the watch, ../support/page-fixture.ts fails
 * a test that leaves a breach); the second test here shows that watch sees one.
 */
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../../scripts/local-server.ts";
import { openChat, person, policyBreaches, waitUntil } from "../support/chat-page.ts";
import { usePageFixture } from "../support/page-fixture.ts";

const fixture = usePageFixture();

/** The headers public/_headers gives every asset (its `/*` rule), by lower-case name. */
function headersForEverything(): Map<string, string> {
	const file = readFileSync(path.join(ROOT, "public", "_headers"), "utf8");
	const rule = /^\/\*\n((?:[ \t]+.*\n)+)/m.exec(file)?.[1] ?? "";
	return new Map(
		[...rule.matchAll(/^\s+([A-Za-z-]+):\s*(.+)$/gm)].map((match) => [
			(match[1] as string).toLowerCase(),
			(match[2] as string).trim(),
		]),
	);
}

/** A site of another origin (another port on loopback), serving `pages` by path. */
async function anotherSite(pages: Record<string, string>): Promise<{ origin: string; server: Server }> {
	const server = createServer((request, response) => {
		const page = pages[request.url ?? ""];
		response.writeHead(page === undefined ? 404 : 200, { "Content-Type": "text/html; charset=utf-8" });
		response.end(page ?? "");
	});
	await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
	const address = server.address();
	if (address === null || typeof address === "string") throw new Error("no port");
	return { origin: `http://127.0.0.1:${address.port}`, server };
}

describe("security headers", () => {
	it("come with the page, its script and the client library, and the page connects under them", async () => {
		const expected = headersForEverything();
		expect([...expected.keys()].sort()).toEqual([
			"content-security-policy",
			"permissions-policy",
			"referrer-policy",
			"x-content-type-options",
			"x-frame-options",
		]);
		for (const asset of ["/?room=lobby", "/app.js", "/client/index.js", "/style.css"]) {
			const response = await fetch(`${fixture.server.origin}${asset}`);
			expect(response.status, asset).toBe(200);
			for (const [name, value] of expected) expect(response.headers.get(name), `${asset} ${name}`).toBe(value);
		}
		// In the browser: the page is served with its policy, and its socket (connect-src 'self',
		// which matches the same host's ws:) opens under it.
		const page = await (await person(fixture.browser)).newPage();
		const response = await page.goto(`${fixture.server.origin}/?room=headers`);
		expect(response?.headers()["content-security-policy"]).toBe(expected.get("content-security-policy"));
		const dialog = page.getByRole("dialog", { name: "Join the chat" });
		await dialog.getByRole("textbox", { name: "Your name" }).fill("Ada");
		await dialog.getByRole("button", { name: "Join" }).click();
		await page.getByRole("status").getByText("Connected").waitFor();
	});

	it("stop inline script and style injected into the page, and the watch on every test sees it", async () => {
		const page = await openChat(await person(fixture.browser), fixture.server.origin, "headers-inject", "Ada");
		const ran = await page.evaluate<unknown>(`(() => {
			const script = document.createElement("script");
			script.textContent = "window.injected = true";
			document.head.append(script);
			document.body.setAttribute("style", "outline: 5px solid red");
			return window.injected ?? false;
		})()`);
		expect(ran).toBe(false);
		expect(await page.evaluate<string>("getComputedStyle(document.body).outlineStyle")).toBe("none");
		// Each is seen twice: the page's securitypolicyviolation event, and the browser's console error.
		await policyBreaches.until((seen) => seen.length >= 4);
		const breaches = policyBreaches.take();
		expect(breaches.filter((line) => line.startsWith("console error: ")).length).toBe(2);
		const events = breaches.filter((line) => !line.startsWith("console "));
		expect(events.map((line) => /: ([a-z-]+) blocked inline \(enforce\)/.exec(line)?.[1]).sort()).toEqual([
			"script-src-elem",
			"style-src-attr",
		]);
	});

	it("keep the page out of other sites' frames, and let them import the client library", async () => {
		const { origin } = fixture.server;
		const site = await anotherSite({
			"/import.html": `<!doctype html><title>importing</title><script type="module">
				import { connect } from "${origin}/client/index.js";
				document.title = typeof connect;
			</script>`,
			"/frame.html": `<!doctype html><title>framing</title><iframe title="chat" src="${origin}/?room=framed"></iframe>`,
		});
		try {
			const page = await (await person(fixture.browser)).newPage();
			await page.goto(`${site.origin}/import.html`);
			await waitUntil(page, `document.title === "function"`);

			await page.goto(`${site.origin}/frame.html`);
			// The browser refuses to show it and says why in the console, which the watch keeps.
			await policyBreaches.until((seen) => seen.length >= 1);
			const breaches = policyBreaches.take();
			expect(breaches).toHaveLength(1);
			expect(breaches[0]).toMatch(/frame-ancestors 'none'/);
			expect(await page.frameLocator("iframe").locator("#messages").count()).toBe(0);
		} finally {
			site.server.close();
		}
	});
});
