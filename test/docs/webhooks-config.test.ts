/**
 * The webhook queues as wrangler.toml declares them are the ones the code and the docs speak of:
 * the dead-letter queue the Worker recognises, the number of attempts and how long they last
 * (README.md and docs/api.md say "11 attempts over about 26 hours"), and the retry setting's default.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { unstable_readConfig } from "wrangler";
import { ROOT } from "../../scripts/local-server.ts";
import { WEBHOOK_DEFAULTS } from "../../src/config.ts";
import { DEAD_LETTER_QUEUE, retryDelaySeconds } from "../../src/webhooks/delivery.ts";

const config = unstable_readConfig({ config: path.join(ROOT, "wrangler.toml") });
/** The parts of wrangler.toml's `[[queues.*]]` read here. */
const queues = config.queues as {
	producers?: { binding: string; queue: string }[];
	consumers?: { queue: string; max_retries?: number; dead_letter_queue?: string }[];
};
const readme = readFileSync(path.join(ROOT, "README.md"), "utf8");
const apiDoc = readFileSync(path.join(ROOT, "docs/api.md"), "utf8");

const producer = queues.producers?.find((queue) => queue.binding === "WEBHOOKS");
const consumer = queues.consumers?.find((queue) => queue.queue === producer?.queue);

describe("the webhook queues", () => {
	it("the Worker consumes the queue the rooms produce to, and its dead-letter queue is the one the code recognises", () => {
		expect(producer?.queue).toBe("edgechat-webhooks");
		expect(consumer?.dead_letter_queue).toBe(DEAD_LETTER_QUEUE);
		expect(queues.consumers?.some((queue) => queue.queue === DEAD_LETTER_QUEUE)).toBe(true);
		// Both queues are named in README's deploy step.
		expect(readme).toContain(
			`npx wrangler queues create ${producer?.queue} && npx wrangler queues create ${DEAD_LETTER_QUEUE}`,
		);
	});

	it("the attempts and how long they last are what the docs say", () => {
		const attempts = 1 + (consumer?.max_retries ?? 0);
		const base = Number(config.vars.WEBHOOK_RETRY_BASE_SECONDS);
		expect(base).toBe(WEBHOOK_DEFAULTS.retryBaseSeconds);
		let waited = 0;
		for (let attempt = 1; attempt < attempts; attempt++) waited += retryDelaySeconds(attempt, base);
		const hours = Math.round(waited / 3_600);
		expect(`${attempts} attempts over about ${hours} hours`).toBe("11 attempts over about 26 hours");
		expect(readme).toContain(`${attempts} attempts over about ${hours} hours`);
		expect(apiDoc).toContain(`After the ${attempts}th attempt (\`max_retries = ${consumer?.max_retries}\``);
	});
});
