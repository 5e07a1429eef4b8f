/** Keys and rate limits: the live table and its actions (add, remove, enable, disable, unban, test). */
import { Elysia } from 'elysia'
import type { Storage } from '../../core/storage.ts'
import { html } from '../../views/html.ts'
import { addKeysForm, type KeysState, keysTable } from '../../views/keys-table.ts'
import type { KeyTester } from '../assembly-client/key-test.ts'
import type { KeyPool } from '../rate-limits/key-pool.ts'
import { FormError, field, guard, message, type PanelKit, postedForm, show } from './http.ts'

export interface KeysPageDeps {
	pool: KeyPool
	storage: Storage
	keyTester?: KeyTester
}

export const keysPage = (kit: PanelKit, deps: KeysPageDeps) => {
	const state = async (extra: Partial<KeysState> = {}): Promise<KeysState> => {
		try {
			return { keys: await deps.pool.report(), now: kit.now(), ...extra }
		} catch (err) {
			return { keys: null, now: kit.now(), error: `The key pool cannot be read: ${message(err)}` }
		}
	}
	return new Elysia({ name: 'panel-keys' })
		.get(
			'/ui/keys',
			async ({ request }) => {
				const v = await guard(kit, request)
				if (v instanceof Response) return v
				const table = keysTable(await state())
				return show(kit, request, v, 'keys', 'Keys and rate limits', table, html`${table}${addKeysForm()}`)
			},
			{ detail: { hide: true } },
		)
		.get(
			'/ui/fragments/keys',
			async ({ request }) => {
				const v = await guard(kit, request)
				if (v instanceof Response) return v
				return show(kit, request, v, 'keys', 'Keys and rate limits', keysTable(await state()))
			},
			{ detail: { hide: true } },
		)
		.post(
			'/ui/keys/add',
			async ({ request }) => {
				const v = await guard(kit, request)
				if (v instanceof Response) return v
				const form = await postedForm(kit, request, v)
				let extra: Partial<KeysState>
				try {
					const keys = [
						...new Set(
							(field(form, 'keys') ?? '')
								.split(/\r?\n/)
								.map((k) => k.trim())
								.filter(Boolean),
						),
					]
					if (!keys.length) throw new FormError('Paste at least one key, one per line.')
					if (keys.some((k) => k.length > 512 || /[\u0000-\u001f\u007f\s]/.test(k)))
						throw new FormError('A key must be 1 to 512 printable characters without spaces.')
					const { added, duplicates } = await deps.pool.addKeys(keys)
					extra = { message: `${added.length} key(s) added${duplicates.length ? `, ${duplicates.length} already in the pool` : ''}.` }
				} catch (err) {
					extra = { error: message(err) }
				}
				return show(kit, request, v, 'keys', 'Keys and rate limits', keysTable(await state(extra)))
			},
			{ parse: 'none', detail: { hide: true } },
		)
		.post(
			'/ui/keys/:id/:action',
			async ({ request, params }) => {
				const v = await guard(kit, request)
				if (v instanceof Response) return v
				await postedForm(kit, request, v)
				const { id, action } = params
				let extra: Partial<KeysState> = {}
				try {
					if (action === 'enable' || action === 'unban' || action === 'disable') {
						const record = await deps.pool.setStatus(id, action === 'disable' ? 'disabled' : 'active', action === 'disable' ? 'disabled by the operator' : null)
						if (!record) throw new FormError('No such key.')
						extra = { message: `Key ${id.slice(0, 8)} ${action === 'disable' ? 'disabled' : action === 'unban' ? 'unbanned' : 'enabled'}.` }
					} else if (action === 'remove') {
						const result = await deps.pool.removeKey(id)
						if (result === 'env_key') throw new FormError('This key comes from ASSEMBLY_API_KEYS: remove it there, or disable it here.')
						if (result === 'not_found') throw new FormError('No such key.')
						extra = { message: `Key ${id.slice(0, 8)} removed.` }
					} else if (action === 'test') {
						if (!deps.keyTester) throw new FormError('Key tests need the assembly-client plugin.')
						const key = await deps.pool.secretOf(id)
						const shown = (await deps.pool.report()).find((k) => k.id === id)
						if (!key || !shown) throw new FormError('No such key.')
						const result = await deps.keyTester.test(key, shown.key)
						extra = { tested: { id, text: result.text, ok: result.ok } }
					} else throw new FormError(`Unknown action ${action}.`)
				} catch (err) {
					extra = { error: message(err) }
				}
				return show(kit, request, v, 'keys', 'Keys and rate limits', keysTable(await state(extra)))
			},
			{ parse: 'none', detail: { hide: true } },
		)
}
