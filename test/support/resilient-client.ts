/**
 * A rich client that survives its server going away, as the page does: it remembers the
 * highest message id it has seen and every message it sent but has not seen stored, and on
 * `reconnect()` says hello with `since` and resends those with their original clientId.
 */
import type { ChatMessage } from "../../src/wire/log-entries.ts";
import { joinRich, type RichClient } from "./rich-client.ts";

export class ResilientClient {
	readonly #url: string;
	readonly #name: string;
	#client: RichClient | null = null;
	/** Every stored message seen, by id (so replays and repeats count once). */
	readonly seen = new Map<number, ChatMessage>();
	/** Sent, not yet seen stored: clientId -> text. */
	readonly unconfirmed = new Map<string, string>();
	/** Every clientId this client has seen acknowledged (its own message came back stored). */
	readonly acknowledged = new Set<string>();
	#sent = 0;

	private constructor(url: string, name: string) {
		this.#url = url;
		this.#name = name;
	}

	/** Connects and joins. */
	static async join(url: string, name: string): Promise<ResilientClient> {
		const client = new ResilientClient(url, name);
		await client.reconnect();
		return client;
	}

	/** The highest id seen. */
	get lastId(): number {
		return Math.max(0, ...this.seen.keys());
	}

	/** (Re)connects, resumes from the last id seen, and resends what is unconfirmed. */
	async reconnect(): Promise<void> {
		this.#client?.client.socket.terminate();
		const client = await joinRich(this.#url, this.#name, this.seen.size > 0 ? this.lastId : undefined);
		this.#client = client;
		this.#absorb();
		client.client.socket.on("message", () => this.#absorb());
		for (const [clientId, text] of this.unconfirmed) client.send(text, clientId);
	}

	/** Takes in every message the current connection has received. */
	#absorb(): void {
		for (const message of this.#client?.messages.splice(0) ?? []) {
			this.seen.set(message.id, message);
			if (message.clientId !== null && this.unconfirmed.delete(message.clientId))
				this.acknowledged.add(message.clientId);
		}
	}

	/** Sends a new message (kept until it is seen stored). */
	send(text: string): string {
		const clientId = `${this.#name}-${++this.#sent}`;
		this.unconfirmed.set(clientId, text);
		if (this.#client?.client.socket.readyState === 1) this.#client.send(text, clientId);
		return clientId;
	}

	/** Resolves once every message sent so far has been seen stored. */
	async settled(): Promise<void> {
		await this.#client?.until(() => {
			this.#absorb();
			return this.unconfirmed.size === 0;
		});
	}

	/** Resolves once the connection has closed (for example because the server stopped). */
	closed(): Promise<unknown> {
		return this.#client?.client.closed ?? Promise.resolve();
	}
}
