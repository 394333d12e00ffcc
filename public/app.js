// @ts-check
/**
 * The chat page: picks the room from `?room=`, opens the room's socket on the page's own host
 * (ws: under `wrangler dev`, wss: when deployed), renders what arrives as text and sends what
 * is typed.
 */
import { Connection } from "./connection.js";

/** Same rule as the server (src/room-name.ts): 1 to 64 of A-Z a-z 0-9 _ -. */
const ROOM_NAME = /^[A-Za-z0-9_-]{1,64}$/;
/** Oldest messages are dropped from the page past this many, so a long session stays light. */
const MAX_RENDERED = 500;

/**
 * @template {HTMLElement} T
 * @param {string} id
 * @param {new () => T} type
 * @returns {T}
 */
function element(id, type) {
	const found = document.getElementById(id);
	if (!(found instanceof type)) throw new Error(`page is missing #${id}`);
	return found;
}

const list = element("messages", HTMLOListElement);
const scroller = /** @type {HTMLElement} */ (list.parentElement);
const form = element("composer", HTMLFormElement);
const input = element("message", HTMLInputElement);
const sendButton = element("send", HTMLButtonElement);
const status = element("connection", HTMLElement);
const statusText = element("connection-text", HTMLElement);
const reconnectButton = element("reconnect", HTMLButtonElement);

const room = new URLSearchParams(location.search).get("room") ?? "lobby";
element("room-name", HTMLElement).textContent = room;
document.title = `${room} · edgechat`;

/**
 * Adds one line to the list. Always `textContent`: a message is text, never markup.
 * @param {string} text
 * @param {"message" | "system"} kind
 */
function render(text, kind = "message") {
	const nearBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;
	const item = document.createElement("li");
	item.className = kind;
	item.textContent = text;
	list.append(item);
	while (list.childElementCount > MAX_RENDERED) list.firstElementChild?.remove();
	if (nearBottom) item.scrollIntoView({ block: "end" });
}

/**
 * @param {import("./connection.js").ConnectionState | "failed"} state
 * @param {string} text
 */
function showState(state, text) {
	status.dataset.state = state;
	statusText.textContent = text;
	reconnectButton.hidden = state !== "waiting";
	sendButton.disabled = state !== "open";
}

if (!ROOM_NAME.test(room)) {
	showState("failed", "Invalid room name");
	render("Room names are 1 to 64 letters, digits, '_' or '-'. Try ?room=lobby.", "system");
	input.disabled = true;
} else {
	const scheme = location.protocol === "https:" ? "wss:" : "ws:";
	const connection = new Connection(`${scheme}//${location.host}/api/rooms/${room}/websocket`, {
		onMessage(data) {
			render(typeof data === "string" ? data : `[binary message, ${data.byteLength} bytes]`);
		},
		onState(state, { retryInMs, code }) {
			if (state === "connecting") showState(state, "Connecting…");
			else if (state === "open") showState(state, "Connected");
			else if (state === "closed") showState(state, `Disconnected (${code})`);
			else showState(state, `Connection lost; retrying in ${Math.ceil((retryInMs ?? 0) / 1000)} s`);
		},
	});

	form.addEventListener("submit", (event) => {
		event.preventDefault();
		const text = input.value;
		// An empty frame is a valid message on the wire, but the page never sends one.
		if (text.trim() === "") return;
		if (connection.send(text)) input.value = "";
		input.focus();
	});
	reconnectButton.addEventListener("click", () => connection.connect());
	// Back online: no need to sit out the rest of the backoff.
	addEventListener("online", () => connection.connect());
	connection.connect();
	input.focus();
}
