// @ts-check
/**
 * The page's accounts (docs/operating.md, "Accounts"): what the deployment lets people sign in
 * with, the sign-in dialog (sign in with a passkey, create an account, add a passkey from a
 * link, read as a guest), and the account dialog (name, passkeys, sessions, sign out). The
 * passkey ceremonies are `@simplewebauthn/browser`'s, against the Worker's `/auth/` requests
 * (src/accounts/routes.ts); a session is an `HttpOnly` cookie the page never sees, so no token is
 * ever in a URL or in the page's reach.
 */
import { startAuthentication, startRegistration } from "@simplewebauthn/browser";

/**
 * @typedef {{ open: boolean, passkeys: boolean, access: boolean, tokens: boolean, guests: "none" | "read" | "post", accountCreation: "anyone" | "invite" | "nobody" }} Ways
 * @typedef {{ userId: string, handle: string, displayName: string, kind: string, first: boolean }} Account
 * @typedef {{ id: string, device: string, createdAt: number, usedAt: number }} Passkey
 * @typedef {{ id: string, device: string, createdAt: number, seenAt: number, current: boolean }} Session
 * @typedef {{ ways: Ways, account: Account | null, owner?: boolean, passkeys?: Passkey[], sessions?: Session[] }} Me
 * @typedef {{ kind: "add-passkey" | "invite", code: string }} Link
 */

/**
 * Takes a one-use link's code out of the address bar (an add-a-passkey link's, or an invite's:
 * secrets not to be left in the history or a bookmark; in the fragment, which no server is
 * sent), and returns it.
 * @returns {Link | null}
 */
export function takeLink() {
	const match = /^#(add-passkey|invite)=([A-Za-z0-9_-]{20,64})$/.exec(location.hash);
	if (location.hash.startsWith("#add-passkey=") || location.hash.startsWith("#invite=")) {
		history.replaceState(null, "", location.pathname + location.search);
	}
	return match ? { kind: /** @type {Link["kind"]} */ (match[1]), code: /** @type {string} */ (match[2]) } : null;
}

/**
 * A request to `/auth/...`: its JSON answer, or an `Error` with the server's sentence.
 * @param {string} path
 * @param {unknown} [body]
 * @returns {Promise<any>}
 */
async function auth(path, body) {
	const response = await fetch(`/auth${path}`, {
		method: body === undefined ? "GET" : "POST",
		headers: body === undefined ? {} : { "Content-Type": "application/json" },
		body: body === undefined ? undefined : JSON.stringify(body),
	});
	if (response.status === 204) return null;
	const answer = await response.json().catch(() => ({}));
	if (!response.ok) throw new Error(answer.error ?? `the server answered ${response.status}`);
	return answer;
}

/** @returns {Promise<Me>} */
export const whoAmI = () => auth("/me");

/** Why a ceremony the browser ran did not finish, in words. @param {unknown} error */
function inWords(error) {
	if (error instanceof Error && error.name === "NotAllowedError")
		return "The passkey request was cancelled or timed out.";
	return error instanceof Error ? error.message : String(error);
}

/** Signs in with a passkey on this device. @returns {Promise<Account>} */
export async function signInWithPasskey() {
	const { ceremony, options } = await auth("/sign-in/options", {});
	const response = await startAuthentication({ optionsJSON: options });
	return (await auth("/sign-in", { ceremony, response })).account;
}

/**
 * Creates an account with a new passkey (`invite`: an invite link's code, where one is needed).
 * @param {string} displayName
 * @param {string} handle
 * @param {string | null} invite
 * @returns {Promise<Account>}
 */
export async function createAccount(displayName, handle, invite) {
	const { ceremony, options } = await auth("/register/options", { displayName, handle, invite });
	const response = await startRegistration({ optionsJSON: options });
	return (await auth("/register", { ceremony, response })).account;
}

/** Adds a passkey on this device to the account a link is for. @param {string} code @returns {Promise<Account>} */
export async function addPasskey(code) {
	const { ceremony, options } = await auth("/add/options", { code });
	const response = await startRegistration({ optionsJSON: options });
	return (await auth("/add", { ceremony, response })).account;
}

/**
 * The handle of an account (`null` for a user of the operator's tokens, or on any failure).
 * @param {string} userId
 * @returns {Promise<string | null>}
 */
export async function handleOf(userId) {
	if (!userId.startsWith("u_")) return null;
	return auth("/person", { userId })
		.then((person) => person.handle)
		.catch(() => null);
}

/**
 * The owner gives an account a role in a room (from its next connection there).
 * @param {string} userId
 * @param {string} room
 * @param {"member" | "moderator" | "readonly"} role
 */
export const setRole = (userId, room, role) => auth("/role", { userId, room, role });

/** The UI elements the dialogs are made of (index.html). */
export class AccountUi {
	/**
	 * @param {(id: string) => HTMLElement} element the page's element by id
	 * @param {Me} me what the server said at load
	 * @param {{ onSignedIn: (account: Account | null) => void }} events `null`: read as a guest
	 */
	constructor(element, me, { onSignedIn }) {
		this.me = me;
		this.signIn = /** @type {HTMLDialogElement} */ (element("sign-in"));
		this.error = element("sign-in-error");
		this.accountDialog = /** @type {HTMLDialogElement} */ (element("account-dialog"));
		this.button = /** @type {HTMLButtonElement} */ (element("account-button"));
		this.onSignedIn = onSignedIn;
		const create = /** @type {HTMLFormElement} */ (element("create-account"));
		create.hidden = !me.ways.passkeys || me.ways.accountCreation === "nobody";
		element("passkey-sign-in").hidden = !me.ways.passkeys;
		element("guest").hidden = me.ways.guests === "none";
		element("guest").textContent = me.ways.guests === "post" ? "Chat as a guest" : "Read as a guest";
		element("passkey-sign-in").addEventListener("click", () => this.#attempt(() => signInWithPasskey(), "Signing in…"));
		create.addEventListener("submit", (event) => {
			event.preventDefault();
			const data = new FormData(create);
			const [name, handle] = [String(data.get("displayName")), String(data.get("handle"))];
			this.#attempt(() => createAccount(name, handle, this.invite), "Creating…");
		});
		/** An invite link's code, when the page was opened from one. @type {string | null} */
		this.invite = null;
		element("guest").addEventListener("click", () => {
			this.signIn.close();
			onSignedIn(null);
		});
		this.button.addEventListener("click", () => this.showAccount());
		element("account-close").addEventListener("click", () => this.accountDialog.close());
		element("sign-out").addEventListener("click", () => this.#leave("/sign-out"));
		element("sign-out-all").addEventListener("click", () => this.#leave("/sign-out-everywhere"));
		const rename = /** @type {HTMLFormElement} */ (element("rename-form"));
		rename.addEventListener("submit", async (event) => {
			event.preventDefault();
			try {
				const { account } = await auth("/rename", { displayName: String(new FormData(rename).get("displayName")) });
				this.showSignedIn(account);
				element("account-display").textContent = account.displayName;
				element("account-error").textContent = "Renamed: rooms show the new name from your next connection.";
			} catch (error) {
				element("account-error").textContent = inWords(error);
			}
		});
		/** Makes a one-use link (`/link`: add a passkey; `/invite`: make an account) and shows it. @param {string} path */
		const showLink = async (path) => {
			try {
				const { url } = await auth(path, {});
				element("link-url").textContent = url;
				element("link-output").hidden = false;
			} catch (error) {
				element("account-error").textContent = inWords(error);
			}
		};
		element("link-button").addEventListener("click", () => showLink("/link"));
		element("invite-button").addEventListener("click", () => showLink("/invite"));
		this.element = element;
	}

	/**
	 * Asks the visitor to sign in; with an add-a-passkey link, to add a passkey on this device;
	 * with an invite, to create an account.
	 * @param {Link | null} link
	 */
	askToSignIn(link) {
		const add = this.element("add-passkey");
		add.hidden = link?.kind !== "add-passkey";
		if (link?.kind === "add-passkey") {
			const button = this.element("add-passkey-button");
			button.onclick = () => this.#attempt(() => addPasskey(link.code), "Adding…");
			// Whose account it is, said before anything is made: a link is not to be trusted blindly.
			auth("/add/whose", { code: link.code }).then(
				({ handle }) => {
					this.element("add-whose").textContent =
						`This link adds a passkey on this device to the account @${handle}. Add it only if that account is yours.`;
				},
				(error) => {
					this.error.textContent = inWords(error);
				},
			);
		}
		this.invite = link?.kind === "invite" ? link.code : null;
		this.element("invited").hidden = this.invite === null;
		this.error.textContent = "";
		this.signIn.showModal();
	}

	/**
	 * Runs a ceremony; on success the dialog closes and the page signs in.
	 * @param {() => Promise<Account>} ceremony
	 * @param {string} doing
	 */
	async #attempt(ceremony, doing) {
		this.error.textContent = doing;
		try {
			const account = await ceremony();
			this.error.textContent = "";
			this.signIn.close();
			this.onSignedIn(account);
		} catch (error) {
			this.error.textContent = inWords(error);
		}
	}

	/** Shows who is signed in in the header. @param {Account} account */
	showSignedIn(account) {
		this.button.hidden = false;
		this.element("avatar").textContent = initialsOf(account.displayName);
		this.element("account-name").textContent = account.displayName;
		this.element("account-handle-hidden").textContent = ` (@${account.handle})`;
	}

	/** Opens the account dialog, with its passkeys and sessions as they are now. */
	async showAccount() {
		const me = await whoAmI();
		if (!me.account) return;
		this.element("account-display").textContent = me.account.displayName;
		/** @type {HTMLInputElement} */ (this.element("new-display-name")).value = me.account.displayName;
		this.element("account-handle").textContent = me.account.handle;
		this.element("account-error").textContent = "";
		this.element("link-output").hidden = true;
		this.element("invite-button").hidden = !(me.owner && me.ways.accountCreation === "invite");
		const list = this.element("passkey-list");
		list.replaceChildren(
			...(me.passkeys ?? []).map((passkey) => {
				const item = document.createElement("li");
				item.append(`${passkey.device}, added ${new Date(passkey.createdAt).toLocaleDateString()} `);
				const remove = document.createElement("button");
				remove.type = "button";
				remove.className = "link";
				remove.textContent = "Remove";
				remove.setAttribute("aria-label", `Remove the passkey of ${passkey.device}`);
				remove.disabled = (me.passkeys ?? []).length === 1;
				remove.addEventListener("click", async () => {
					try {
						await auth("/passkeys/remove", { id: passkey.id });
						await this.showAccount();
					} catch (error) {
						this.element("account-error").textContent = inWords(error);
					}
				});
				item.append(remove);
				return item;
			}),
		);
		this.element("session-list").replaceChildren(
			...(me.sessions ?? []).map((session) => {
				const item = document.createElement("li");
				item.textContent = `${session.device}${session.current ? " (this one)" : ""}, since ${new Date(session.createdAt).toLocaleDateString()}`;
				return item;
			}),
		);
		if (!this.accountDialog.open) this.accountDialog.showModal();
	}

	/** Signs out (here, or everywhere) and starts again. @param {string} path */
	async #leave(path) {
		await auth(path, {});
		location.reload();
	}
}

/** Up to two initials of a name, for its avatar. @param {string} name */
export function initialsOf(name) {
	const words = name.trim().split(/\s+/).filter(Boolean);
	const letters = words.length > 1 ? [words[0], words.at(-1)] : [name.trim()];
	return letters
		.map((word) => [...(word ?? "")][0] ?? "")
		.join("")
		.toUpperCase();
}
