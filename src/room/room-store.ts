/**
 * The room's own storage, kept only while the room holds something worth keeping. Anyone who has
 * a public room's URL can make a request reach any room's object (a name is all it takes), and a
 * SQLite Durable Object that has been written to keeps its database, and the runtime's metadata
 * beside it, until `deleteAll()`: storage that is billed every month and that nothing in the room
 * would ever look at again. So:
 *
 * - **nothing is written until something is worth keeping**: a message, a setting, a ban, a read
 *   position, a failed webhook, or the record of a room past `ROOM_SOCKETS` (its shards). Until
 *   then the room's tables do not exist and every part reads them as empty. Asking about a room,
 *   a refused upgrade, its stats and a socket that comes and goes without a word write nothing
 *   (bar the liveness alarm while a socket is open, which the next point takes back);
 * - **a room with nothing left gives its storage back**: once it holds no connection anywhere and
 *   no message, setting, ban, read position or webhook event, `deleteAll()` (which also drops the
 *   alarm) returns it to an object that never wrote, and each part forgets what it had in memory.
 *
 * Every part that keeps a table declares it here (`define`); the first write of any of them
 * creates them all, in one go (`keep`), so no part ever reads a half-made database. A room stored
 * by an older edgechat has its tables already and is opened as it is.
 */
export class RoomStore {
	readonly #storage: DurableObjectStorage;
	/** What each part runs to create (or bring up to date) its tables, in the order declared. */
	readonly #definitions: (() => void)[] = [];
	/** What each part forgets when the storage is given back. */
	readonly #forgetters: (() => void)[] = [];
	/** Whether the room's tables exist. */
	#kept: boolean;

	/** Reads (without writing) whether this room's object has kept anything before. */
	constructor(storage: DurableObjectStorage) {
		this.#storage = storage;
		this.#kept = storage.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' LIMIT 1").toArray().length > 0;
	}

	/** The room's SQL database (read it only when `kept`: its tables exist only then). */
	get sql(): SqlStorage {
		return this.#storage.sql;
	}

	/** The room's key-value storage (the same database). */
	get kv(): SyncKvStorage {
		return this.#storage.kv;
	}

	/** Whether the room keeps anything: its tables exist. */
	get kept(): boolean {
		return this.#kept;
	}

	/**
	 * Declares a part's tables: `create` runs once the room first keeps something (and at once,
	 * to bring an older room's tables up to date, when it already does). `forget` resets what the
	 * part holds in memory when the storage is given back.
	 */
	define(create: () => void, forget: () => void = () => {}): void {
		this.#definitions.push(create);
		this.#forgetters.push(forget);
		if (this.#kept) create();
	}

	/** Runs `write` in one transaction, the room's tables created first if they were not yet (`keep`). */
	transactionSync<T>(write: () => T): T {
		this.keep();
		return this.#storage.transactionSync(write);
	}

	/** Something is about to be written: every part's tables are created first (once). */
	keep(): void {
		if (this.#kept) return;
		this.#storage.transactionSync(() => {
			for (const create of this.#definitions) create();
		});
		this.#kept = true;
	}

	/**
	 * Gives the room's storage back (`deleteAll()`, its alarm included): the caller has checked
	 * that nothing worth keeping is left. Every part forgets what it held in memory, so the room
	 * goes on exactly as an object that never wrote.
	 */
	async giveBack(): Promise<void> {
		this.#kept = false;
		for (const forget of this.#forgetters) forget();
		await this.#storage.deleteAll();
	}
}
