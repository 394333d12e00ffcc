// @ts-check
/**
 * A message's reactions on the page: one toggle button per emoji present ("👍 3", pressed when it
 * is the viewer's), who reacted shown on hover and on keyboard focus and said to screen readers,
 * and a "React" button that opens a few quick reactions. Everything is a real button, usable with
 * the keyboard; Escape closes the quick reactions and gives focus back to the "React" button.
 * The room decides what counts (PROTOCOL.md, "Reactions"); a click only asks it.
 */

import { isolatedNames } from "./message-view.js";

/** @import { Reaction } from "../src/wire/log-entries.ts"
 * @import { ReactorsEvent } from "../src/wire/protocol.ts" */

/** The quick reactions offered on every message. */
export const QUICK_REACTIONS = ["👍", "❤️", "😂", "🎉", "😮", "😢"];

/**
 * Who is looking: a reaction is theirs when their user id (signed mode) or name is among those
 * listed (the room lists the first 10; past that the page cannot tell, and shows it as not theirs).
 * @typedef {{ name: string, userId: string | null }} Viewer
 */

/**
 * Whether `viewer` is among those who reacted with `reaction`.
 * @param {Reaction} reaction
 * @param {Viewer} viewer
 */
export function reactedBy(reaction, viewer) {
	return viewer.userId !== null
		? (reaction.userIds ?? []).includes(viewer.userId)
		: reaction.names.includes(viewer.name);
}

/**
 * Shows `reactions` in a message's `.reactions` box, with a "React" button unless `canReact` is
 * false (a read-only viewer). `toggle(emoji, on)` asks the room; `reactors(emoji)` asks it who
 * reacted, for a reaction whose names the room did not all list (the hint then shows the first
 * hundred once the button is hovered or focused, and whether the viewer is among them).
 * @param {HTMLElement} box
 * @param {Reaction[]} reactions
 * @param {{ viewer: Viewer, canReact: boolean, author: string, toggle: (emoji: string, on: boolean) => void,
 *   reactors: (emoji: string) => Promise<ReactorsEvent> }} options
 */
export function showReactions(box, reactions, { viewer, canReact, author, toggle, reactors }) {
	const focused = box.contains(document.activeElement) ? document.activeElement : null;
	const hadFocus = focused?.getAttribute("data-emoji") ?? null;
	box.replaceChildren();
	for (const reaction of reactions) {
		const mine = reactedBy(reaction, viewer);
		const button = document.createElement("button");
		button.type = "button";
		button.className = "reaction";
		button.dataset.emoji = reaction.emoji;
		button.textContent = `${reaction.emoji} ${reaction.count}`;
		button.setAttribute("aria-pressed", String(mine));
		// Who reacted, shown on hover and keyboard focus (style.css); the label says it to screen readers.
		const hint = document.createElement("span");
		hint.className = "who";
		hint.setAttribute("aria-hidden", "true");
		hint.append(...whoReacted(reaction));
		button.append(hint);
		button.setAttribute("aria-label", `${reaction.emoji} ${reaction.count}: ${hint.textContent}`);
		button.disabled = !canReact;
		let pressed = mine;
		button.addEventListener("click", () => toggle(reaction.emoji, !pressed));
		if (reaction.count > reaction.names.length) {
			// The room listed the first few: the rest are asked for once, when someone looks.
			const more = () => {
				button.removeEventListener("pointerenter", more);
				button.removeEventListener("focus", more);
				reactors(reaction.emoji).then(
					(page) => {
						const names = page.reactors.map(({ name }) => name);
						const others = reaction.count - names.length;
						hint.replaceChildren(...isolatedNames(names), ...(others > 0 ? [` and ${others} more`] : []));
						button.setAttribute("aria-label", `${reaction.emoji} ${reaction.count}: ${hint.textContent}`);
						const own = page.reactors.some((one) =>
							viewer.userId !== null ? one.userId === viewer.userId : one.name === viewer.name,
						);
						if (own) {
							pressed = true;
							button.setAttribute("aria-pressed", "true");
						}
					},
					() => {},
				);
			};
			button.addEventListener("pointerenter", more);
			button.addEventListener("focus", more);
		}
		box.append(button);
	}
	if (canReact) box.append(picker(author, reactions, viewer, toggle));
	// Redrawn under the viewer's focus (its own click, or someone else's reaction): focus stays put.
	const refocus = hadFocus !== null ? box.querySelector(`[data-emoji="${CSS.escape(hadFocus)}"]`) : null;
	if (refocus instanceof HTMLElement) refocus.focus();
}

/**
 * "ann, bob and 3 more": the names the room listed (each isolated), and how many more.
 * @param {Reaction} reaction
 * @returns {(string | Node)[]}
 */
function whoReacted(reaction) {
	const others = reaction.count - reaction.names.length;
	const names = isolatedNames(reaction.names);
	return others > 0 ? [...names, ` and ${others} more`] : names;
}

/**
 * The "React" button and the quick reactions it opens.
 * @param {string} author
 * @param {Reaction[]} reactions
 * @param {Viewer} viewer
 * @param {(emoji: string, on: boolean) => void} toggle
 */
function picker(author, reactions, viewer, toggle) {
	const wrap = document.createElement("span");
	wrap.className = "react";
	const open = document.createElement("button");
	open.type = "button";
	open.className = "react-toggle";
	open.dataset.emoji = "";
	open.textContent = "☺+";
	open.setAttribute("aria-label", `React to ${author}'s message`);
	open.setAttribute("aria-expanded", "false");
	const menu = document.createElement("span");
	menu.className = "react-menu";
	menu.setAttribute("role", "group");
	menu.setAttribute("aria-label", "Quick reactions");
	menu.hidden = true;
	for (const emoji of QUICK_REACTIONS) {
		const present = reactions.find((reaction) => reaction.emoji === emoji);
		const mine = present !== undefined && reactedBy(present, viewer);
		const choice = document.createElement("button");
		choice.type = "button";
		choice.textContent = emoji;
		choice.setAttribute("aria-label", mine ? `Take back ${emoji}` : `React ${emoji}`);
		choice.addEventListener("click", () => {
			close({ refocus: false });
			toggle(emoji, !mine);
			open.focus();
		});
		menu.append(choice);
	}
	/** @param {{ refocus: boolean }} options `refocus`: whether focus goes back to the button that opened it */
	const close = ({ refocus }) => {
		menu.hidden = true;
		open.setAttribute("aria-expanded", "false");
		if (refocus) open.focus();
	};
	open.addEventListener("click", () => {
		const opening = menu.hidden;
		menu.hidden = !opening;
		open.setAttribute("aria-expanded", String(opening));
		if (opening) (menu.firstElementChild instanceof HTMLElement ? menu.firstElementChild : open).focus();
	});
	// The arrow keys move between the emoji (Home and End to the ends), as in any toolbar; Tab
	// still walks through them too.
	menu.addEventListener("keydown", (event) => {
		if (event.key === "Escape") {
			event.preventDefault();
			close({ refocus: true });
			return;
		}
		const choices = [...menu.querySelectorAll("button")];
		const at = choices.indexOf(/** @type {HTMLButtonElement} */ (document.activeElement));
		const to = {
			ArrowRight: at + 1,
			ArrowDown: at + 1,
			ArrowLeft: at - 1,
			ArrowUp: at - 1,
			Home: 0,
			End: choices.length - 1,
		}[event.key];
		if (to === undefined || at === -1) return;
		event.preventDefault();
		choices[(to + choices.length) % choices.length]?.focus();
	});
	wrap.append(open, menu);
	return wrap;
}
