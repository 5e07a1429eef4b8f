/** Keys and rate limits: the live table and its actions (add, remove, enable, disable, unban, test). */
import { Elysia } from 'elysia'
import type { Storage } from '../../core/storage.ts'
import { html } from '../../views/html.ts'
import type { Translator } from '../../views/i18n/i18n.ts'
import { addKeysForm, type KeysState, keysLive, keysTable } from '../../views/keys-table.ts'
import type { KeyTester, KeyTestResult } from '../assembly-client/key-test.ts'
import type { KeyPool } from '../rate-limits/key-pool.ts'
import { FormError, field, guard, message, type PanelKit, postedForm, show } from './http.ts'

export interface KeysPageDeps {
	pool: KeyPool
	storage: Storage
	keyTester?: KeyTester
}

/**
 * A key test in the visitor's language. The tester writes one English line (the key-test
 * service's own words); the status, time and rate-limit window are ours to say, the model and
 * the upstream's message are names and data, shown as they are.
 */
export function testedText(t: Translator, masked: string, result: KeyTestResult): string {
	const rest = result.text.startsWith(`${masked}: `) ? result.text.slice(masked.length + 2) : result.text
	if (result.status === null) return t('keys.testedNoAnswer', { key: masked, detail: /\(([\s\S]*)\)$/.exec(rest)?.[1] ?? rest })
	const m = /^HTTP \d+ from (\S+) in \d+ ms(?:: ([\s\S]*?))?(?:; limit (\S+), remaining (\S+))?$/.exec(rest)
	if (!m) return t('keys.testedOther', { key: masked, detail: rest })
	const window = m[3] !== undefined ? t('keys.testedWindow', { limit: m[3], remaining: m[4] ?? '?' }) : ''
	const vars = { key: masked, status: result.status, ms: result.ms, model: m[1] as string, detail: m[2] ?? '', window }
	return t(result.ok ? 'keys.testedOk' : 'keys.testedFail', vars)
}

export const keysPage = (kit: PanelKit, deps: KeysPageDeps) => {
	const state = async (t: Translator, extra: Partial<KeysState> = {}): Promise<KeysState> => {
		try {
			return { keys: await deps.pool.report(), now: kit.now(), ...extra }
		} catch (err) {
			return { keys: null, now: kit.now(), error: t('keys.unreadableWhy', { error: message(err) }) }
		}
	}
	return new Elysia({ name: 'panel-keys' })
		.get(
			'/ui/keys',
			async ({ request }) => {
				const v = await guard(kit, request)
				if (v instanceof Response) return v
				const table = keysTable(v.t, await state(v.t))
				return show(kit, request, v, 'keys', table, html`${table}${addKeysForm(v.t)}`)
			},
			{ detail: { hide: true } },
		)
		.get(
			'/ui/fragments/keys',
			async ({ request }) => {
				const v = await guard(kit, request)
				if (v instanceof Response) return v
				// The poll carries the table only: the notice of the last action stays where it is.
				return show(kit, request, v, 'keys', keysLive(v.t, await state(v.t)))
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
					if (!keys.length) throw new FormError('keys.pasteOne')
					if (keys.some((k) => k.length > 512 || /[\u0000-\u001f\u007f\s]/.test(k))) throw new FormError('keys.badKey')
					const { added, duplicates } = await deps.pool.addKeys(keys)
					extra = {
						message: duplicates.length
							? v.t('keys.addedWithDuplicates', { n: added.length, duplicates: duplicates.length })
							: v.t('keys.added', { n: added.length }),
					}
				} catch (err) {
					extra = { error: message(err, v.t) }
				}
				return show(kit, request, v, 'keys', keysTable(v.t, await state(v.t, extra)))
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
				const short = id.slice(0, 8)
				let extra: Partial<KeysState> = {}
				try {
					if (action === 'enable' || action === 'unban' || action === 'disable') {
						const record = await deps.pool.setStatus(id, action === 'disable' ? 'disabled' : 'active', action === 'disable' ? 'disabled by the operator' : null)
						if (!record) throw new FormError('keys.noSuch')
						extra = { message: v.t(action === 'disable' ? 'keys.disabled' : action === 'unban' ? 'keys.unbanned' : 'keys.enabled', { id: short }) }
					} else if (action === 'remove') {
						const result = await deps.pool.removeKey(id)
						if (result === 'env_key') throw new FormError('keys.envKey')
						if (result === 'not_found') throw new FormError('keys.noSuch')
						extra = { message: v.t('keys.removed', { id: short }) }
					} else if (action === 'test') {
						if (!deps.keyTester) throw new FormError('keys.needTester')
						const key = await deps.pool.secretOf(id)
						const shown = (await deps.pool.report()).find((k) => k.id === id)
						if (!key || !shown) throw new FormError('keys.noSuch')
						const result = await deps.keyTester.test(key, shown.key)
						extra = result.ok ? { message: testedText(v.t, shown.key, result) } : { error: testedText(v.t, shown.key, result) }
					} else throw new FormError('keys.unknownAction', { action: action.slice(0, 40) })
				} catch (err) {
					extra = { error: message(err, v.t) }
				}
				return show(kit, request, v, 'keys', keysTable(v.t, await state(v.t, extra)))
			},
			{ parse: 'none', detail: { hide: true } },
		)
}
