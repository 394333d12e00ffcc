/** Passkeys in the browser tests: Chromium's virtual authenticator (the DevTools `WebAuthn` domain). */
import type { BrowserContext, CDPSession, Page } from "playwright-core";

/**
 * Gives a page a passkey authenticator of its own: a platform one that keeps discoverable
 * credentials and says the user is present and verified, as a phone's or a laptop's does.
 */
export async function withAuthenticator(context: BrowserContext, page: Page): Promise<CDPSession> {
	const cdp = await context.newCDPSession(page);
	await cdp.send("WebAuthn.enable");
	await cdp.send("WebAuthn.addVirtualAuthenticator", {
		options: {
			protocol: "ctap2",
			transport: "internal",
			hasResidentKey: true,
			hasUserVerification: true,
			isUserVerified: true,
			automaticPresenceSimulation: true,
		},
	});
	return cdp;
}
