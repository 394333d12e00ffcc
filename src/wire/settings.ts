/**
 * A room's settings (PROTOCOL.md, "Room settings"): what they are, what a room starts with, the
 * command that changes them and the event that announces them, and the one check of a change,
 * for the socket's command (src/wire/parse.ts) and the HTTP API alike. Part of the wire protocol:
 * src/wire/protocol.ts re-exports everything here.
 */
import { MAX_RETENTION_DAYS, MAX_SLOW_MODE_SECONDS } from "./limits.ts";

/** Who may post in a room: everyone who may write, or moderators only (an announcement room). */
export type PostingRole = (typeof POSTING_ROLES)[number];
/** Every posting role. */
export const POSTING_ROLES = ["everyone", "moderators"] as const;

/** A room's settings (PROTOCOL.md, "Room settings"), as stored, announced and welcomed. */
export interface RoomSettings {
	/** Seconds a member waits between two messages (moderators and the HTTP API are exempt); 0: off. */
	slowModeSeconds: number;
	/** Who may post (`moderators`: an announcement room; the HTTP API always may). */
	postingRole: PostingRole;
	/** Days a message is kept; 0: no limit by age (`HISTORY_RETENTION` still counts). */
	retentionDays: number;
}

/** What a room starts with. */
export const DEFAULT_SETTINGS: Readonly<RoomSettings> = {
	slowModeSeconds: 0,
	postingRole: "everyone",
	retentionDays: 0,
};

/** Signed mode, moderators: change some of the room's settings (at least one field). */
export interface SettingsCommand {
	type: "settings";
	slowModeSeconds?: number;
	postingRole?: PostingRole;
	retentionDays?: number;
}

/** The room's settings changed, for everyone: all of them as they stand now, and who changed them. */
export interface SettingsEvent {
	type: "settings";
	settings: RoomSettings;
	/** A moderator's name, or `API` for the HTTP API. */
	by: string;
}

/** A change of settings: at least one of them. */
export type SettingsPatch = Partial<RoomSettings>;

/**
 * Checks a change of settings from untrusted input (the fields of a `settings` command, or an
 * API body already shaped by its schema): the patch, or a one-line reason naming the field.
 */
export function checkSettingsPatch(
	value: Record<string, unknown>,
): { ok: true; patch: SettingsPatch } | { ok: false; field: string; message: string } {
	const patch: SettingsPatch = {};
	for (const [field, max] of INTEGER_SETTINGS) {
		const given = value[field];
		if (given === undefined) continue;
		if (!isIntegerIn(given, max))
			return { ok: false, field, message: `'${field}' must be an integer from 0 to ${max}` };
		patch[field] = given;
	}
	const { postingRole } = value;
	if (postingRole !== undefined) {
		if (!(POSTING_ROLES as readonly unknown[]).includes(postingRole)) {
			return { ok: false, field: "postingRole", message: `'postingRole' must be one of ${POSTING_ROLES.join(", ")}` };
		}
		patch.postingRole = postingRole as PostingRole;
	}
	if (Object.keys(patch).length === 0) {
		return { ok: false, field: "", message: "name at least one of slowModeSeconds, postingRole, retentionDays" };
	}
	return { ok: true, patch };
}

/** The settings that are whole numbers from 0, with their largest value. */
const INTEGER_SETTINGS = [
	["slowModeSeconds", MAX_SLOW_MODE_SECONDS],
	["retentionDays", MAX_RETENTION_DAYS],
] as const;

function isIntegerIn(value: unknown, max: number): value is number {
	return typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= max;
}
