// @ts-check
/**
 * What a signed-mode user may do with a message, and the controls for it (PROTOCOL.md,
 * "Signed identity and moderation"). Its author edits and deletes it; a moderator deletes any
 * message and kicks or bans its author. Controls appear only on the messages the viewer may act
 * on (the room checks every command again): one "actions" button per such message opens a
 * small menu of real buttons; Edit turns the text into a field in place; Delete, Kick and Ban
 * ask first in a dialog (Ban with a length). Escape closes the menu, the field or the dialog,
 * and focus goes back to the message's actions button.
 */

import { isolated } from "./message-view.js";

/** @import { ChatMessage } from "../src/wire/log-entries.ts"
 * @import { Role } from "../src/wire/protocol.ts" */

/** @typedef {"edit" | "delete" | "kick" | "ban"} Action */

/**
 * Who is looking at the page, as the room's welcome said.
 * @typedef {object} Viewer
 * @property {string} userId
 * @property {Role} role
 * @property {boolean} [owner] the deployment's owner (passkey or Access accounts): gives roles in rooms
 */

/**
 * Sends a command; returns whether it went out (a refusal keeps the editor open).
 * @typedef {object} Commands
 * @property {(id: number, text: string) => boolean} edit
 * @property {(id: number) => boolean} delete
 * @property {(userId: string) => boolean} kick
 * @property {(userId: string, seconds: number) => boolean} ban
 * @property {(userId: string) => Promise<string | null>} [handleOf] the account's handle, shown to
 *   a moderator deciding about a member (passkey and Access accounts)
 * @property {(userId: string, name: string, role: "member" | "moderator" | "readonly") => void} [setRole]
 *   the owner gives an account a role in this room
 */

/**
 * The confirmation dialog's parts (index.html, `#action-dialog`).
 * @typedef {object} DialogParts
 * @property {HTMLDialogElement} dialog
 * @property {HTMLElement} title
 * @property {HTMLElement} text
 * @property {HTMLElement} lengthField the ban length's label and select, shown for Ban only
 * @property {HTMLSelectElement} length the ban length, in seconds
 * @property {HTMLButtonElement} confirm
 * @property {HTMLButtonElement} cancel
 */

/**
 * What `viewer` may do with `message`, in menu order; nothing in open mode (no viewer).
 * @param {Viewer | null} viewer
 * @param {ChatMessage} message
 * @returns {Action[]}
 */
export function allowedActions(viewer, message) {
	if (!viewer || viewer.role === "readonly") return [];
	const mine = message.userId !== undefined && message.userId === viewer.userId;
	const moderator = viewer.role === "moderator";
	/** @type {Action[]} */
	const actions = [];
	if (mine) actions.push("edit");
	if (mine || moderator) actions.push("delete");
	if (moderator && !mine && message.userId !== undefined) actions.push("kick", "ban");
	return actions;
}

/** The first words of a message, for a dialog's question. */
function excerpt(/** @type {string} */ text) {
	const chars = [...text];
	return chars.length > 40 ? `${chars.slice(0, 40).join("")}…` : text;
}

/** Adds the actions to messages and carries them out. */
export class MessageActions {
	/** @type {Viewer | null} */ #viewer = null;
	/** @type {Commands} */ #commands;
	/** @type {DialogParts} */ #parts;
	/** Where focus goes when the message it was on is gone. @type {HTMLElement} */ #fallbackFocus;
	/** The open menu and the button that opened it. @type {{ toggle: HTMLButtonElement, menu: HTMLElement } | null} */
	#open = null;

	/**
	 * @param {DialogParts} parts
	 * @param {Commands} commands
	 * @param {HTMLElement} fallbackFocus
	 */
	constructor(parts, commands, fallbackFocus) {
		this.#parts = parts;
		this.#commands = commands;
		this.#fallbackFocus = fallbackFocus;
		parts.cancel.addEventListener("click", () => parts.dialog.close(""));
		document.addEventListener("keydown", (event) => {
			if (event.key === "Escape" && this.#open) {
				event.preventDefault();
				this.#closeMenu({ refocus: true });
			}
		});
		// A click or tap anywhere else closes the menu (without moving focus).
		document.addEventListener("pointerdown", (event) => {
			const open = this.#open;
			if (open && event.target instanceof Node && !open.toggle.parentElement?.contains(event.target)) {
				this.#closeMenu({ refocus: false });
			}
		});
	}

	/** Who is looking (from each welcome); `null` in open mode. @param {Viewer | null} viewer */
	set viewer(viewer) {
		this.#viewer = viewer;
	}

	/**
	 * Adds an actions button to a stored message's item, if the viewer may act on it.
	 * @param {HTMLLIElement} item
	 * @param {ChatMessage} message
	 */
	decorate(item, message) {
		const actions = allowedActions(this.#viewer, message);
		if (actions.length === 0) return;
		const box = document.createElement("span");
		box.className = "actions";
		// The list is a live region for new messages: opening a menu is not news to announce.
		box.setAttribute("aria-live", "off");
		const toggle = document.createElement("button");
		toggle.type = "button";
		toggle.className = "actions-toggle";
		toggle.textContent = "⋯";
		toggle.setAttribute("aria-label", `Actions for ${message.name}'s message`);
		toggle.setAttribute("aria-expanded", "false");
		toggle.addEventListener("click", () => {
			if (this.#open?.toggle === toggle) this.#closeMenu({ refocus: true });
			else this.#openMenu(item, box, toggle, message, actions);
		});
		box.append(toggle);
		item.querySelector(".meta")?.append(" ", box);
	}

	/**
	 * @param {HTMLLIElement} item
	 * @param {HTMLElement} box
	 * @param {HTMLButtonElement} toggle
	 * @param {ChatMessage} message
	 * @param {Action[]} actions
	 */
	#openMenu(item, box, toggle, message, actions) {
		this.#closeMenu({ refocus: false });
		const menu = document.createElement("span");
		menu.className = "actions-menu";
		menu.id = `actions-${message.id}`;
		/** @type {Record<Action, (string | Node)[]>} */
		const labels = {
			edit: ["Edit"],
			delete: ["Delete"],
			kick: ["Kick ", isolated(message.name)],
			ban: ["Ban ", isolated(message.name), "…"],
		};
		for (const action of actions) {
			const button = document.createElement("button");
			button.type = "button";
			button.append(...labels[action]);
			button.addEventListener("click", () => {
				this.#closeMenu({ refocus: false });
				this.#run(action, item, toggle, message);
			});
			menu.append(button);
		}
		const handleOf = this.#commands.handleOf;
		if (handleOf && actions.includes("kick") && message.userId) {
			// Which account this is, not only the name it shows.
			const who = document.createElement("span");
			who.className = "actions-who";
			menu.prepend(who);
			void handleOf(message.userId).then((handle) => {
				if (handle) who.textContent = `@${handle}`;
			});
		}
		const setRole = this.#commands.setRole;
		if (setRole && this.#viewer?.owner && actions.includes("kick") && message.userId?.startsWith("u_")) {
			/** @type {["moderator" | "readonly" | "member", string][]} */
			const roles = [
				["moderator", "Make moderator here"],
				["readonly", "Make read-only here"],
				["member", "Make member here"],
			];
			for (const [role, label] of roles) {
				const button = document.createElement("button");
				button.type = "button";
				button.textContent = label;
				button.addEventListener("click", () => {
					this.#closeMenu({ refocus: true });
					if (message.userId) setRole(message.userId, message.name, role);
				});
				menu.append(button);
			}
		}
		box.append(menu);
		toggle.setAttribute("aria-controls", menu.id);
		toggle.setAttribute("aria-expanded", "true");
		this.#open = { toggle, menu };
		menu.querySelector("button")?.focus();
	}

	/** @param {{ refocus: boolean }} options `refocus`: whether focus goes back to the menu's button */
	#closeMenu({ refocus }) {
		const open = this.#open;
		if (!open) return;
		this.#open = null;
		open.menu.remove();
		open.toggle.setAttribute("aria-expanded", "false");
		open.toggle.removeAttribute("aria-controls");
		if (refocus) open.toggle.focus();
	}

	/**
	 * @param {Action} action
	 * @param {HTMLLIElement} item
	 * @param {HTMLButtonElement} toggle
	 * @param {ChatMessage} message
	 */
	async #run(action, item, toggle, message) {
		if (action === "edit") return this.#edit(item, toggle, message);
		const text = item.querySelector(".text")?.textContent ?? "";
		// The name is a fresh <bdi> each time it is shown: a node is in one place only.
		const name = () => isolated(message.name);
		/** @type {Record<"delete" | "kick" | "ban", [(string | Node)[], (string | Node)[]]>} */
		const questions = {
			delete: [["Delete this message?"], ["“", isolated(excerpt(text)), "” will read “message deleted” for everyone."]],
			kick: [
				["Kick ", name(), "?"],
				[name(), " leaves the room now, and may come back."],
			],
			ban: [
				["Ban ", name(), "?"],
				[name(), " leaves the room now and cannot come back until the ban ends."],
			],
		};
		const [title, question] = questions[action];
		const confirmed = await this.#ask(title, question, action);
		this.#focus(toggle);
		if (!confirmed) return;
		if (action === "delete") this.#commands.delete(message.id);
		else if (message.userId === undefined) return;
		else if (action === "kick") this.#commands.kick(message.userId);
		else this.#commands.ban(message.userId, Number(this.#parts.length.value));
	}

	/**
	 * Turns the message's text into a field; Enter saves, Escape or Cancel leaves it as it was.
	 * @param {HTMLLIElement} item
	 * @param {HTMLButtonElement} toggle
	 * @param {ChatMessage} message
	 */
	#edit(item, toggle, message) {
		const body = item.querySelector(".text");
		if (!(body instanceof HTMLElement) || item.querySelector(".edit-form")) return;
		const form = document.createElement("form");
		form.className = "edit-form";
		form.setAttribute("aria-live", "off");
		const input = document.createElement("input");
		input.type = "text";
		input.required = true;
		input.value = body.textContent ?? "";
		input.dir = "auto";
		input.setAttribute("aria-label", "Edit message");
		const save = document.createElement("button");
		save.type = "submit";
		save.textContent = "Save";
		const cancel = document.createElement("button");
		cancel.type = "button";
		cancel.className = "secondary";
		cancel.textContent = "Cancel";
		form.append(input, save, cancel);
		const finish = () => {
			form.remove();
			body.hidden = false;
			this.#focus(toggle);
		};
		form.addEventListener("submit", (event) => {
			event.preventDefault();
			const text = input.value;
			if (text.trim() === "" || text === body.textContent) return finish();
			if (this.#commands.edit(message.id, text)) finish();
		});
		cancel.addEventListener("click", finish);
		input.addEventListener("keydown", (event) => {
			if (event.key === "Escape") {
				event.preventDefault();
				finish();
			}
		});
		body.hidden = true;
		body.after(form);
		input.focus();
	}

	/**
	 * Asks in the dialog; resolves whether the user confirmed (Escape and Cancel do not).
	 * @param {(string | Node)[]} title
	 * @param {(string | Node)[]} text
	 * @param {"delete" | "kick" | "ban"} action names the confirm button
	 * @returns {Promise<boolean>}
	 */
	#ask(title, text, action) {
		const { dialog } = this.#parts;
		this.#parts.title.replaceChildren(...title);
		this.#parts.text.replaceChildren(...text);
		this.#parts.confirm.textContent = { delete: "Delete", kick: "Kick", ban: "Ban" }[action];
		this.#parts.lengthField.hidden = action !== "ban";
		dialog.returnValue = "";
		dialog.showModal();
		// The safe choice first, except for a ban, whose length is the question.
		(action === "ban" ? this.#parts.length : this.#parts.cancel).focus();
		return new Promise((resolve) => {
			dialog.addEventListener("close", () => resolve(dialog.returnValue === "confirm"), { once: true });
		});
	}

	/** Focuses `toggle` if its message still has it (not deleted meanwhile), else the fallback. */
	#focus(/** @type {HTMLButtonElement} */ toggle) {
		(toggle.isConnected ? toggle : this.#fallbackFocus).focus();
	}
}
