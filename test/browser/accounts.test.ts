/**
 * Passkey accounts on the page (docs/operating.md, "Accounts"), in headless Chromium with its
 * virtual authenticator (the DevTools `WebAuthn` domain: a platform authenticator that keeps
 * discoverable credentials and says the user is present and verified). Each person is a browser
 * profile of its own with an authenticator of its own. The page is opened as `localhost`, the
 * relying party a passkey is for (an IP address cannot be one). Every wait is on the page's DOM
 * or an answer, never on a timer.
 */
import AxeBuilder from "@axe-core/playwright";
import type { BrowserContext, CDPSession, Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import WebSocket from "ws";
import { SUBPROTOCOL } from "../../public/contract.js";
import { SESSION_COOKIE } from "../../src/accounts/session.ts";
import { person as newPerson } from "../support/chat-page.ts";
import { usePageFixture } from "../support/page-fixture.ts";
import { withAuthenticator } from "../support/passkeys.ts";
import { freshRoom } from "../support/room-names.ts";

// Every test here signs in from 127.0.0.1: the per-address limit (30 a minute) is not what they
// test (test/e2e/accounts-access.test.ts does, with wrangler.toml's own).
// `ada` owns the deployment (a moderator in every room) whichever account is made first.
const fixture = usePageFixture({ vars: { SIGN_IN: "passkeys", OWNER: "ada" }, rateLimits: { AUTH_LIMIT: 1_000 } });

/** The page's origin as a passkey needs it: `localhost`, the same server. */
const origin = () => fixture.server.origin.replace("127.0.0.1", "localhost");

interface Someone {
	readonly context: BrowserContext;
	readonly page: Page;
	readonly cdp: CDPSession;
	/** Every URL the page asked for, sockets included. */
	readonly urls: string[];
}

/** A browser profile with a passkey authenticator of its own, its page watched for errors and URLs. */
async function someone(): Promise<Someone> {
	const context = await newPerson(fixture.browser);
	const page = await context.newPage();
	page.on("pageerror", (error) => {
		throw error;
	});
	const urls: string[] = [];
	page.on("request", (request) => urls.push(request.url()));
	page.on("websocket", (socket) => urls.push(socket.url()));
	const cdp = await withAuthenticator(context, page);
	return { context, page, cdp, urls };
}

const signInDialog = (page: Page) => page.getByRole("dialog", { name: "Sign in to chat" });
const accountButton = (page: Page) => page.getByRole("button", { name: /^Your account: / });
const messages = (page: Page) => page.getByRole("list", { name: "Messages" }).locator("li.message");

/** Opens a room and creates an account there, waiting until the room has welcomed it. */
async function createAccount(who: Someone, room: string, displayName: string, handle: string): Promise<void> {
	await who.page.goto(`${origin()}/?room=${room}`);
	const dialog = signInDialog(who.page);
	await dialog.getByLabel("Display name").fill(displayName);
	await dialog.getByLabel(/^Handle/).fill(handle);
	await dialog.getByRole("button", { name: "Create an account with a passkey" }).click();
	await who.page.getByRole("button", { name: `Your account: ${displayName} (@${handle})`, exact: true }).waitFor();
	await who.page.locator("#connection[data-state='open']").waitFor();
}

/** Sends a message from the composer and waits until it is stored. */
async function say(who: Someone, text: string): Promise<void> {
	await who.page.getByLabel("Message", { exact: true }).fill(text);
	await who.page.getByLabel("Message", { exact: true }).press("Enter");
	await messages(who.page).filter({ hasText: text }).and(who.page.locator(":not(.pending)")).first().waitFor();
}

/** The session cookie the page was given, if any. */
async function sessionCookie(who: Someone) {
	return (await who.context.cookies()).find((cookie) => cookie.name === SESSION_COOKIE);
}

describe("passkey accounts", () => {
	it("creates an account with a passkey, signs out, and signs in again with it; no token is ever in a URL", async () => {
		const ada = await someone();
		const room = freshRoom("accounts");
		await createAccount(ada, room, "Ada Lovelace", "ada");
		await say(ada, "hello from a passkey");
		// The owner moderates every room, and sees which account a member is.
		const bob = await someone();
		await createAccount(bob, room, "Bob", "bob");
		await say(bob, "hi from bob");
		const bobs = messages(ada.page).filter({ hasText: "hi from bob" });
		await bobs.getByRole("button", { name: "Actions for Bob's message" }).click();
		await bobs.locator(".actions-who").filter({ hasText: "@bob" }).waitFor();
		expect(await bobs.getByRole("button", { name: "Kick Bob" }).count()).toBe(1);
		// The owner makes Bob read-only in this room: from Bob's next connection there.
		await bobs.getByRole("button", { name: "Make read-only here" }).click();
		await ada.page.getByText("Bob is read-only here from their next connection.").waitFor();
		await bob.page.reload();
		await bob.page.getByText("Read-only: you can follow this room but not write in it.").waitFor();
		// Only the owner gives roles.
		const byBob = await bob.page.evaluate(
			async (userId) => {
				const response = await fetch("/auth/role", {
					method: "POST",
					headers: { "Content-Type": "application/json" },
					body: JSON.stringify({ userId, room: "anywhere", role: "moderator" }),
				});
				return { status: response.status, body: await response.json() };
			},
			await bob.page.evaluate(
				async () => ((await (await fetch("/auth/me")).json()) as { account: { userId: string } }).account.userId,
			),
		);
		expect(byBob).toEqual({ status: 403, body: { error: "only the owner gives roles" } });
		// A ban is of the account: its session (or any passkey of it) meets it at every connection.
		await bobs.getByRole("button", { name: "Actions for Bob's message" }).click();
		await bobs.getByRole("button", { name: "Ban Bob…" }).click();
		const ban = ada.page.getByRole("dialog", { name: "Ban Bob?" });
		await ban.getByRole("combobox", { name: "Ban for" }).selectOption({ label: "10 minutes" });
		await ban.getByRole("button", { name: "Ban" }).click();
		const banned = /^A moderator banned you from this room until .+\.$/;
		await bob.page.getByText(banned).first().waitFor();
		await bob.page.reload();
		await bob.page.getByText(banned).first().waitFor();
		await bob.context.close();
		expect(await messages(ada.page).first().textContent()).toContain("Ada Lovelace");
		const cookie = await sessionCookie(ada);
		expect(cookie).toMatchObject({ httpOnly: true, secure: true, sameSite: "Strict", path: "/" });
		expect(await ada.page.evaluate("document.cookie")).toBe("");
		const token = cookie?.value.split(".")[1] ?? "missing";

		await accountButton(ada.page).click();
		const account = ada.page.getByRole("dialog", { name: "Your account" });
		await account.getByRole("listitem").nth(1).waitFor();
		expect(await new AxeBuilder({ page: ada.page }).include("#account-dialog").analyze()).toMatchObject({
			violations: [],
		});
		await account.getByRole("button", { name: "Sign out", exact: true }).click();
		await signInDialog(ada.page).waitFor();
		expect(await sessionCookie(ada)).toBeUndefined();
		expect(await new AxeBuilder({ page: ada.page }).include("#sign-in").analyze()).toMatchObject({ violations: [] });

		await signInDialog(ada.page).getByRole("button", { name: "Sign in with a passkey" }).click();
		await ada.page.getByRole("button", { name: "Your account: Ada Lovelace (@ada)", exact: true }).waitFor();
		await ada.page.locator("#connection[data-state='open']").waitFor();
		await messages(ada.page).filter({ hasText: "hello from a passkey" }).waitFor();
		const urls = ada.urls.join("\n");
		expect(urls).not.toContain(token);
		expect(urls).not.toMatch(/[?#&]token=/);
		await ada.context.close();
	});

	it("refuses a handle or a display name that is taken, and a malformed handle, with the reason", async () => {
		const first = await someone();
		await createAccount(first, freshRoom("accounts"), "Grace", "grace");
		const second = await someone();
		await second.page.goto(`${origin()}/?room=${freshRoom("accounts")}`);
		const dialog = signInDialog(second.page);
		await dialog.getByLabel("Display name").fill("Another Grace");
		await dialog.getByLabel(/^Handle/).fill("grace");
		await dialog.getByRole("button", { name: "Create an account with a passkey" }).click();
		await dialog.getByRole("status").filter({ hasText: "the handle grace is taken" }).waitFor();
		// Nor may a second account show up under the first one's name (case aside): a mention is one account.
		await dialog.getByLabel("Display name").fill("GRACE");
		await dialog.getByLabel(/^Handle/).fill("grace-two");
		await dialog.getByRole("button", { name: "Create an account with a passkey" }).click();
		await dialog.getByRole("status").filter({ hasText: "the name GRACE is taken" }).waitFor();
		// Nor pass for a guest.
		await dialog.getByLabel("Display name").fill("Guest 1a2b");
		await dialog.getByRole("button", { name: "Create an account with a passkey" }).click();
		await dialog.getByRole("status").filter({ hasText: "names starting with Guest are for guests" }).waitFor();
		const malformed = await second.page.evaluate(async () => {
			const response = await fetch("/auth/register/options", {
				method: "POST",
				headers: { "Content-Type": "application/json" },
				body: JSON.stringify({ displayName: "x", handle: "-Bad Handle!" }),
			});
			return { status: response.status, body: (await response.json()) as { error: string } };
		});
		expect(malformed.status).toBe(400);
		expect(malformed.body.error).toMatch(/^a handle is 2 to 32 letters/);
		await Promise.all([first.context.close(), second.context.close()]);
	});

	it("adds a passkey from a second browser through a one-use link, and removes one", async () => {
		const laptop = await someone();
		const room = freshRoom("accounts");
		await createAccount(laptop, room, "Hedy", "hedy");
		await accountButton(laptop.page).click();
		const account = laptop.page.getByRole("dialog", { name: "Your account" });
		await account.getByLabel("Display name").fill("Hedy Lamarr");
		await account.getByRole("button", { name: "Rename" }).click();
		await laptop.page.getByRole("button", { name: "Your account: Hedy Lamarr (@hedy)", exact: true }).waitFor();
		await account.getByRole("button", { name: "Add a passkey on another device" }).click();
		await laptop.page.locator("#link-url").filter({ hasText: "add-passkey" }).waitFor();
		const link = (await laptop.page.locator("#link-url").textContent()) ?? "";
		expect(link).toMatch(/^http:\/\/localhost:\d+\/#add-passkey=[A-Za-z0-9_-]{32}$/);

		const phone = await someone();
		await phone.page.goto(link.replace("/#", `/?room=${room}#`));
		// The one-use code leaves the address bar at once.
		expect(phone.page.url()).not.toContain("add-passkey");
		const dialog = signInDialog(phone.page);
		// Whose account the link adds to is said before anything is made.
		await dialog.getByText("This link adds a passkey on this device to the account @hedy.", { exact: false }).waitFor();
		await dialog.getByRole("button", { name: "Add a passkey on this device" }).click();
		await phone.page.getByRole("button", { name: "Your account: Hedy Lamarr (@hedy)", exact: true }).waitFor();
		await phone.page.locator("#connection[data-state='open']").waitFor();

		// The link was used up: a second device cannot use it again.
		const again = await phone.page.evaluate(async (code) => {
			const response = await fetch("/auth/add/options", {
				method: "POST",
				headers: { "Content-Type": "application/json" },
				body: JSON.stringify({ code }),
			});
			return { status: response.status, body: await response.json() };
		}, link.split("=")[1]);
		expect(again).toEqual({
			status: 400,
			body: { error: "this link has expired or was used already; make a new one on a signed-in device" },
		});

		// The laptop sees two passkeys and removes the phone's (the newer); the phone can no longer sign in with it.
		await account.getByRole("button", { name: "Close" }).click();
		await accountButton(laptop.page).click();
		const removes = account.getByRole("button", { name: /^Remove the passkey of / });
		await removes.nth(1).waitFor();
		await removes.nth(1).click();
		await removes.nth(1).waitFor({ state: "detached" });
		expect(await removes.first().isDisabled()).toBe(true);

		// Two sessions, one per device; signing out everywhere ends both (the phone's at its next connection).
		const sessions = account.locator("#session-list li");
		await sessions.nth(1).waitFor();
		const listed = await sessions.allTextContents();
		expect(listed).toHaveLength(2);
		expect(listed.filter((session) => session.includes("(this one)"))).toHaveLength(1);
		await account.getByRole("button", { name: "Sign out everywhere" }).click();
		await signInDialog(laptop.page).waitFor();
		await phone.page.reload();
		await signInDialog(phone.page).getByRole("button", { name: "Sign in with a passkey" }).click();
		await signInDialog(phone.page)
			.getByRole("status")
			.filter({ hasText: "this passkey is not of any account here" })
			.waitFor();
		await Promise.all([laptop.context.close(), phone.context.close()]);
	});

	it("refuses a replayed sign-in answer, one for an unknown ceremony, a flood of forged ones, and a request from another origin", async () => {
		const ada = await someone();
		await createAccount(ada, freshRoom("accounts"), "Replay", "replay");
		// A string, not a function: the test runner would rewrite a function's dynamic import.
		const answers = (await ada.page.evaluate(`(async () => {
			const post = (path, body) =>
				fetch("/auth" + path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
			const { ceremony, options } = await (await post("/sign-in/options", {})).json();
			const webauthn = await import("/vendor/simplewebauthn/index.js");
			const response = await webauthn.startAuthentication({ optionsJSON: options });
			const answers = [
				await post("/sign-in", { ceremony, response }),
				await post("/sign-in", { ceremony, response }),
				await post("/sign-in", { ceremony: "no-such-ceremony", response }),
			];
			// Someone else's attempts at this account: the old answer, its signature changed, each into a fresh ceremony.
			const forged = { ...response, response: { ...response.response, signature: response.response.signature.split("").reverse().join("") } };
			const failures = [];
			for (let attempt = 0; attempt < 11; attempt++) {
				const { ceremony: next } = await (await post("/sign-in/options", {})).json();
				failures.push((await post("/sign-in", { ceremony: next, response: forged })).status);
			}
			return {
				answers: await Promise.all(answers.map(async (answer) => ({ status: answer.status, body: await answer.json() }))),
				failures,
			};
		})()`)) as { answers: { status: number; body: unknown }[]; failures: number[] };
		expect(answers.answers[0]?.status).toBe(200);
		// Ten failures a minute per account, whoever tries: the eleventh is not even tried.
		expect(answers.failures).toEqual([...Array(10).fill(401), 429]);
		expect(answers.answers.slice(1)).toEqual([
			{ status: 400, body: { error: "this sign-in has expired or was used already; start again" } },
			{ status: 400, body: { error: "this sign-in has expired or was used already; start again" } },
		]);
		const foreign = await fetch(`${origin()}/auth/sign-in/options`, {
			method: "POST",
			headers: { "Content-Type": "application/json", Origin: "https://elsewhere.example" },
			body: "{}",
		});
		expect(foreign.status).toBe(403);
		await ada.context.close();
	});

	it("admits a socket the session cookie signs in only from the chat's own page", async () => {
		const ada = await someone();
		const room = freshRoom("accounts");
		await createAccount(ada, room, "Socket", "socket");
		const cookie = await sessionCookie(ada);
		const socketUrl = `${origin().replace("http", "ws")}/api/rooms/${room}/websocket`;
		/** The status an upgrade with the session cookie gets from a page of `from`. */
		const upgrade = (from: string | null) =>
			new Promise<number>((resolve, reject) => {
				const socket = new WebSocket(socketUrl, [SUBPROTOCOL], {
					headers: { Cookie: `${SESSION_COOKIE}=${cookie?.value}`, ...(from ? { Origin: from } : {}) },
				});
				socket.on("upgrade", () => {
					socket.close();
					resolve(101);
				});
				socket.on("unexpected-response", (_request, response) => resolve(response.statusCode ?? 0));
				socket.on("error", reject);
			});
		expect(await upgrade(origin())).toBe(101);
		// Another site, and another port of localhost (which open mode trusts): refused.
		expect(await upgrade("https://elsewhere.example")).toBe(403);
		expect(await upgrade("http://localhost:1")).toBe(403);
		// Without a session: asked to sign in.
		const anonymous = await fetch(socketUrl.replace("ws", "http"));
		expect({ status: anonymous.status, reason: (await anonymous.text()).trim() }).toEqual({
			status: 401,
			reason: "sign in to join this room",
		});
		await ada.context.close();
	});

	it("fits a phone: the sign-in dialog and the header's account within the screen, axe-clean in the dark", async () => {
		const context = await newPerson(fixture.browser, {
			viewport: { width: 390, height: 844 },
			isMobile: true,
			hasTouch: true,
			colorScheme: "dark",
		});
		const page = await context.newPage();
		await withAuthenticator(context, page);
		await page.goto(`${origin()}/?room=${freshRoom("accounts")}`);
		const dialog = signInDialog(page);
		await dialog.waitFor();
		const box = await dialog.boundingBox();
		expect(box && box.x >= 0 && box.x + box.width <= 390).toBe(true);
		expect(await new AxeBuilder({ page }).include("#sign-in").analyze()).toMatchObject({ violations: [] });
		await dialog.getByLabel("Display name").fill("Phone Person");
		await dialog.getByLabel(/^Handle/).fill("phone");
		await dialog.getByRole("button", { name: "Create an account with a passkey" }).tap();
		const account = page.getByRole("button", { name: "Your account: Phone Person (@phone)", exact: true });
		await account.waitFor();
		const header = await account.boundingBox();
		expect(header && header.x + header.width <= 390).toBe(true);
		expect(await new AxeBuilder({ page }).analyze()).toMatchObject({ violations: [] });
		await context.close();
	});
});
