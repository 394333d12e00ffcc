/**
 * The webhook queues as wrangler.toml declares them are the ones the code and the docs speak of:
 * the dead-letter queue the Worker recognises, the number of attempts and how long they last
 * (docs/operating.md says "10 attempts over about 14 hours", docs/api.md the 10th attempt), and
 * the retry setting's default; and a first deploy creates both queues, so the deploy step of
 * README.md and docs/operating.md asks to create nothing.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { unstable_readConfig } from "wrangler";
import { ROOT } from "../../scripts/local-server.ts";
import { SETTINGS } from "../../src/deployment/settings.ts";
import { DEAD_LETTER_QUEUE, retryDelaySeconds } from "../../src/webhooks/delivery.ts";

const config = unstable_readConfig({ config: path.join(ROOT, "wrangler.toml") });
/** The parts of wrangler.toml's `[[queues.*]]` read here. */
const queues = config.queues as {
	producers?: { binding: string; queue: string }[];
	consumers?: { queue: string; max_retries?: number; dead_letter_queue?: string }[];
};
const readme = readFileSync(path.join(ROOT, "README.md"), "utf8");
const operating = readFileSync(path.join(ROOT, "docs/operating.md"), "utf8");
const apiDoc = readFileSync(path.join(ROOT, "docs/api.md"), "utf8");

const producer = queues.producers?.find((queue) => queue.binding === "WEBHOOKS");
const consumer = queues.consumers?.find((queue) => queue.queue === producer?.queue);

describe("the webhook queues", () => {
	it("the Worker consumes the queue the rooms produce to, and its dead-letter queue is the one the code recognises", () => {
		expect(producer?.queue).toBe("edgechat-webhooks");
		expect(consumer?.dead_letter_queue).toBe(DEAD_LETTER_QUEUE);
		expect(queues.consumers?.some((queue) => queue.queue === DEAD_LETTER_QUEUE)).toBe(true);
	});

	it("a first deploy creates every queue: each one consumed has a producer binding, and the docs ask to create none", () => {
		// wrangler provisions a missing queue that a producer binding names, and refuses a missing
		// queue that is only consumed before it provisions anything (docs/operating.md, "Deploying").
		const produced = new Set(queues.producers?.map((queue) => queue.queue));
		const consumed = queues.consumers?.map((queue) => queue.queue) ?? [];
		expect(consumed.length).toBe(2);
		expect(consumed.filter((queue) => !produced.has(queue))).toEqual([]);
		for (const doc of [readme, operating]) {
			expect(doc).toContain("npx wrangler login\nnpm run deploy\n");
			expect(doc).not.toContain("queues create");
		}
	});

	it("the attempts and how long they last are what the docs say", () => {
		const attempts = 1 + (consumer?.max_retries ?? 0);
		const base = Number(config.vars.WEBHOOK_RETRY_BASE_SECONDS);
		expect(base).toBe(SETTINGS.WEBHOOK_RETRY_BASE_SECONDS.default);
		let waited = 0;
		for (let attempt = 1; attempt < attempts; attempt++) waited += retryDelaySeconds(attempt, base);
		const hours = Math.round(waited / 3_600);
		expect(`${attempts} attempts over about ${hours} hours`).toBe("10 attempts over about 14 hours");
		expect(operating).toContain(`${attempts} attempts over about ${hours} hours`);
		expect(apiDoc).toContain(`After the ${attempts}th attempt (\`max_retries = ${consumer?.max_retries}\``);
	});
});
