/**
 * An edgechat.v1 client for the loopback tests, built on the `ws` package: joins with a name,
 * collects every event (batches unpacked), and waits on events, never on timers. After a welcome
 * that says `more` it catches up as PROTOCOL.md ("History") says: `history` pages after the last
 * entry it has, up to the welcome's `latestId`, with live log events held until then.
 */

import { SUBPROTOCOL } from "../../public/contract.js";
import type { ChatMessage } from "../../src/wire/log-entries.ts";
import type { ServerEvent, SingleServerEvent, WelcomeEvent } from "../../src/wire/protocol.ts";
import { type Client, conditionWaits, openClient } from "./clients.ts";

/** A joined rich client. */
export interface RichClient {
	readonly client: Client;
	readonly welcome: WelcomeEvent;
	/** Every event received after the welcome, in order. */
	readonly events: SingleServerEvent[];
	/** Messages seen (welcome history, then live), in arrival order. */
	readonly messages: ChatMessage[];
	/** Resolves once `predicate` holds for the events so far. */
	until(predicate: () => boolean): Promise<void>;
	/** Sends a chat message. */
	send(text: string, clientId: string): void;
}

/** Opens a socket offering edgechat.v1, says hello, and resolves once welcomed. */
export async function joinRich(url: string, name: string, since?: number): Promise<RichClient> {
	const client = await openClient(url, [SUBPROTOCOL]);
	if (client.socket.protocol !== SUBPROTOCOL) throw new Error(`server selected ${client.socket.protocol}`);
	const events: SingleServerEvent[] = [];
	const messages: ChatMessage[] = [];
	const waits = conditionWaits();
	let welcome: WelcomeEvent | undefined;
	/** While catching up: the id to reach, and the live log events held meanwhile. */
	let catchUp: { upTo: number; held: SingleServerEvent[] } | null = null;
	const pageAfter = (after: number) => client.socket.send(JSON.stringify({ type: "history", after, limit: 100 }));
	const onEvent = (event: SingleServerEvent) => {
		if (event.type === "welcome") {
			welcome = event;
			for (const entry of event.history) if (!("kind" in entry)) messages.push(entry);
			if (event.more) {
				catchUp = { upTo: event.latestId, held: [] };
				pageAfter(event.history.at(-1)?.id ?? since ?? 0);
			}
		} else if (catchUp && ["message", "edit", "delete", "reactions"].includes(event.type)) {
			catchUp.held.push(event);
		} else if (catchUp && event.type === "history" && event.after !== undefined) {
			const after = event.after;
			if (event.retryAfterMs !== undefined) return void setTimeout(() => pageAfter(after), event.retryAfterMs);
			const { upTo, held } = catchUp;
			const owed = event.entries.filter((entry) => entry.id <= upTo);
			for (const entry of owed) if (!("kind" in entry)) messages.push(entry);
			const reached = owed.at(-1)?.id ?? event.after;
			if (reached < upTo && event.more) return pageAfter(reached);
			catchUp = null;
			for (const live of held) onEvent(live);
		} else {
			events.push(event);
			if (event.type === "message") messages.push(event);
		}
	};
	client.socket.on("message", (data, isBinary) => {
		if (isBinary) throw new Error("rich client got a binary frame");
		const event = JSON.parse(data.toString()) as ServerEvent;
		for (const single of event.type === "batch" ? event.events : [event]) onEvent(single);
		waits.recheck();
	});
	async function until(predicate: () => boolean): Promise<void> {
		await waits.when(() => predicate() || undefined);
	}
	client.socket.send(JSON.stringify(since === undefined ? { type: "hello", name } : { type: "hello", name, since }));
	await until(() => welcome !== undefined);
	return {
		client,
		welcome: welcome as WelcomeEvent,
		events,
		messages,
		until,
		send: (text, clientId) => client.socket.send(JSON.stringify({ type: "send", clientId, text })),
	};
}
