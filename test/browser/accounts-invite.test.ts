/**
 * Accounts by invitation (`ACCOUNT_CREATION=invite`, docs/operating.md "Accounts"): the first
 * account needs no invite and owns the deployment; after it, an account is made only through a
 * one-use invite link the owner makes in the account dialog. Chromium with a virtual
 * authenticator per person, as in accounts.test.ts.
 */
import type { BrowserContext, Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { person as newPerson } from "../support/chat-page.ts";
import { usePageFixture } from "../support/page-fixture.ts";
import { withAuthenticator } from "../support/passkeys.ts";
import { freshRoom } from "../support/room-names.ts";

const fixture = usePageFixture({
	vars: { SIGN_IN: "passkeys", ACCOUNT_CREATION: "invite" },
	rateLimits: { AUTH_LIMIT: 1_000 },
});

const origin = () => fixture.server.origin.replace("127.0.0.1", "localhost");

/** A profile with a passkey authenticator, and its page. */
async function someone(): Promise<{ context: BrowserContext; page: Page }> {
	const context = await newPerson(fixture.browser);
	const page = await context.newPage();
	await withAuthenticator(context, page);
	return { context, page };
}

/** Fills the sign-in dialog's new-account form and submits it. */
async function signUp(page: Page, displayName: string, handle: string): Promise<void> {
	const dialog = page.getByRole("dialog", { name: "Sign in to chat" });
	await dialog.getByLabel("Display name").fill(displayName);
	await dialog.getByLabel(/^Handle/).fill(handle);
	await dialog.getByRole("button", { name: "Create an account with a passkey" }).click();
}

describe("accounts by invitation", () => {
	it("lets the first account in, then only whoever opens the owner's one-use invite", async () => {
		const room = freshRoom("invite");
		const owner = await someone();
		await owner.page.goto(`${origin()}/?room=${room}`);
		await signUp(owner.page, "Owner", "owner");
		await owner.page.getByRole("button", { name: "Your account: Owner (@owner)", exact: true }).waitFor();

		const stranger = await someone();
		await stranger.page.goto(`${origin()}/?room=${room}`);
		await signUp(stranger.page, "Stranger", "stranger");
		const strangerDialog = stranger.page.getByRole("dialog", { name: "Sign in to chat" });
		await strangerDialog
			.getByRole("status")
			.filter({ hasText: "new accounts here need an invite link (ask the owner for one)" })
			.waitFor();

		await owner.page.getByRole("button", { name: "Your account: Owner (@owner)", exact: true }).click();
		const account = owner.page.getByRole("dialog", { name: "Your account" });
		await account.getByRole("button", { name: "Invite someone" }).click();
		await owner.page.locator("#link-url").filter({ hasText: "#invite=" }).waitFor();
		const invite = (await owner.page.locator("#link-url").textContent()) ?? "";
		expect(invite).toMatch(/^http:\/\/localhost:\d+\/#invite=[A-Za-z0-9_-]{32}$/);

		const guest = await someone();
		await guest.page.goto(invite.replace("/#", `/?room=${room}#`));
		expect(guest.page.url()).not.toContain("invite=");
		await guest.page.getByText("You were invited: pick a name and a handle.").waitFor();
		await signUp(guest.page, "Invited", "invited");
		await guest.page.getByRole("button", { name: "Your account: Invited (@invited)", exact: true }).waitFor();

		// Used once: the stranger, given the same link, is refused.
		await stranger.page.goto(invite.replace("/#", `/?room=${room}#`));
		await signUp(stranger.page, "Stranger", "stranger");
		await strangerDialog
			.getByRole("status")
			.filter({ hasText: "new accounts here need an invite link (ask the owner for one)" })
			.waitFor();
		// Only the owner invites.
		await guest.page.getByRole("button", { name: "Your account: Invited (@invited)", exact: true }).click();
		expect(await guest.page.getByRole("button", { name: "Invite someone" }).isHidden()).toBe(true);
		await Promise.all([owner.context.close(), stranger.context.close(), guest.context.close()]);
	});
});
