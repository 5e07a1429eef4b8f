/**
 * Where the encryption key of stored upstream keys comes from (SECRETS_KEY), decided once at start:
 *
 * - SECRETS_KEY set: that key seals; SECRETS_KEY_PREVIOUS (and a key file left from before
 *   SECRETS_KEY was set) still open what they sealed, and the pool rewrites it under SECRETS_KEY.
 * - unset, file backend: `secrets.key` beside the data files (mode 0600), generated on first
 *   start and printed once.
 * - unset, shared backend (Redis, PostgreSQL, MongoDB): refused once encrypted keys exist, since
 *   a key held by one instance only cannot open them on the others; before that a key is
 *   generated for this process and printed once with that warning.
 * - unset, memory: a key for this store in this process (nothing outlives it anyway).
 */
import { open, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ConfigError } from '../../core/config.ts'
import { generateSecretsKey, parseSecretsKey, SecretBox, SecretBoxError, sealedKid } from '../../core/secret-box.ts'
import type { Doc, Storage } from '../../core/storage.ts'

/** The key file of the file backend, in CREDENTIALS_DIR. */
export const SECRETS_KEY_FILE = 'secrets.key'

export interface SecretsKeyOptions {
	/** SECRETS_KEY, raw text. */
	current: string | null
	/** SECRETS_KEY_PREVIOUS, raw text. */
	previous: string | null
	storage: Storage
	/** Prints to the console, never to the log. */
	print: (line: string) => void
}

/** Parses a key setting; its error is a ConfigError naming the variable, never the value. */
function parse(raw: string, name: string): Uint8Array<ArrayBuffer> {
	try {
		return parseSecretsKey(raw, name)
	} catch (err) {
		throw new ConfigError(err instanceof SecretBoxError ? err.message : `${name}: invalid`)
	}
}

async function readKeyFile(path: string): Promise<Uint8Array<ArrayBuffer> | null> {
	let text: string
	try {
		text = await readFile(path, 'utf8')
	} catch (err) {
		if ((err as { code?: string }).code === 'ENOENT') return null
		throw err
	}
	return parse(text, path)
}

/** Creates the key file (0600, never overwriting one); another process that won the race is read instead. */
async function createKeyFile(path: string, key: string): Promise<boolean> {
	let handle: Awaited<ReturnType<typeof open>>
	try {
		handle = await open(path, 'wx', 0o600)
	} catch (err) {
		if ((err as { code?: string }).code === 'EEXIST') return false
		throw err
	}
	try {
		await handle.writeFile(`${key}\n`)
		await handle.sync()
	} finally {
		await handle.close()
	}
	return true
}

const memoryKeys = new WeakMap<Storage, Uint8Array<ArrayBuffer>>()

const anySealed = async (storage: Storage) => (await storage.listDocs<Doc>('keys')).some((d) => typeof d.sealed === 'string' && sealedKid(d.sealed) !== null)

export async function loadSecretsKey(options: SecretsKeyOptions): Promise<SecretBox> {
	const { storage, print } = options
	const previous = options.previous ? [parse(options.previous, 'SECRETS_KEY_PREVIOUS')] : []
	const file = storage.kind === 'file' ? join(storage.where, SECRETS_KEY_FILE) : null

	if (options.current) {
		const fromFile = file ? await readKeyFile(file) : null
		return SecretBox.create(parse(options.current, 'SECRETS_KEY'), fromFile ? [...previous, fromFile] : previous)
	}
	if (file) {
		const existing = await readKeyFile(file)
		if (existing) return SecretBox.create(existing, previous)
		const generated = generateSecretsKey()
		if (!(await createKeyFile(file, generated))) return SecretBox.create((await readKeyFile(file)) as Uint8Array<ArrayBuffer>, previous)
		print(
			[
				`SECRETS_KEY was not set, so one was generated and saved in ${file} (mode 0600). It encrypts the upstream keys added through the admin API:`,
				`  SECRETS_KEY=${generated}`,
				'Keep a copy outside the data directory. Shared backends (Redis, PostgreSQL, MongoDB) need SECRETS_KEY set, the same, on every instance.',
			].join('\n'),
		)
		return SecretBox.create(parse(generated, 'SECRETS_KEY'), previous)
	}
	if (storage.kind === 'memory') {
		// One key per in-memory store, so instances sharing it in one process (tests) read each other's records.
		let key = memoryKeys.get(storage)
		if (!key) memoryKeys.set(storage, (key = parse(generateSecretsKey(), 'SECRETS_KEY')))
		return SecretBox.create(key, previous)
	}
	if (await anySealed(storage)) {
		throw new ConfigError(
			`SECRETS_KEY is not set, but the upstream keys stored in ${storage.kind} are encrypted with it: set SECRETS_KEY (the same value on every instance) and restart`,
		)
	}
	const generated = generateSecretsKey()
	print(
		[
			`WARNING: SECRETS_KEY is not set. With a shared ${storage.kind} backend, upstream keys added through the admin API are encrypted with this key, generated for this process only:`,
			`  SECRETS_KEY=${generated}`,
			'Set it, the same, on every instance now: once encrypted keys are stored, an instance without SECRETS_KEY refuses to start.',
		].join('\n'),
	)
	return SecretBox.create(parse(generated, 'SECRETS_KEY'), previous)
}
