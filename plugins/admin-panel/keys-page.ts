/**
 * Keys and rate limits: the live table and its actions (add, remove, enable, disable, unban,
 * test), test all, and batch test/enable/disable/delete. Tests go through the key-health service,
 * so each result is kept with the key and learned from (a 401/403 bans or marks failing).
 */
import { Elysia } from 'elysia'
import type { Storage } from '../../core/storage.ts'
import { html } from '../../views/html.ts'
import type { Translator } from '../../views/i18n/i18n.ts'
import { addKeysForm, deleteQuestion, type KeysState, keysLive, keysTable, testModelOptions } from '../../views/keys-table.ts'
import type { KeyTester, KeyTestResult } from '../assembly-client/key-test.ts'
import type { ModelCatalog } from '../assembly-client/model-catalog.ts'
import type { KeyTests } from '../key-health/key-tests.ts'
import type { KeyPool } from '../rate-limits/key-pool.ts'
import { FormError, field, guard, message, type PanelKit, postedForm, show } from './http.ts'

export interface KeysPageDeps {
	pool: KeyPool
	storage: Storage
	/** Key tests that are kept and learned from (the key-health plugin). */
	keyTests?: KeyTests
	/** Tells whether a model is in the catalog (a test on an unknown model tests the model, not the key). */
	keyTester?: Pick<KeyTester, 'knows'>
	/** The models a test may be run on. */
	catalog?: Pick<ModelCatalog, 'list'>
}

/** At most this many ids in one batch (the admin API's limit). */
const BATCH_MAX = 1000

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
	const testModels = async (): Promise<string[]> => {
		const entries = await deps.catalog?.list().catch(() => null)
		return (entries ?? []).map((m) => m.id).sort()
	}
	const state = async (t: Translator, extra: Partial<KeysState> = {}): Promise<KeysState> => {
		const incident = deps.pool.incident()
		try {
			return { keys: await deps.pool.report(), now: kit.now(), incident, ...extra }
		} catch (err) {
			return { keys: null, now: kit.now(), incident, error: t('keys.unreadableWhy', { error: message(err) }) }
		}
	}
	/** The model a test runs on: the one chosen (it must be in the catalog), else the cheapest (undefined). */
	const testModel = async (form: FormData): Promise<string | undefined> => {
		const model = field(form, 'model')
		if (model === null) return undefined
		if (model.length > 200 || (deps.keyTester && !(await deps.keyTester.knows(model)))) throw new FormError('keys.unknownModel', { model: model.slice(0, 200) })
		return model
	}
	const tests = (): KeyTests => {
		if (!deps.keyTests) throw new FormError('keys.needTester')
		return deps.keyTests
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
			'/ui/fragments/key-test-models',
			async ({ request }) => {
				const v = await guard(kit, request)
				if (v instanceof Response) return v
				const selected = new URL(request.url).searchParams.get('selected')
				return show(kit, request, v, 'keys', testModelOptions(v.t, await testModels(), selected && selected.length <= 200 ? selected : null))
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
			'/ui/keys/batch',
			async ({ request }) => {
				const v = await guard(kit, request)
				if (v instanceof Response) return v
				const form = await postedForm(kit, request, v)
				const action = field(form, 'action') ?? ''
				const ids = [...new Set(form.getAll('ids').filter((x): x is string => typeof x === 'string' && x.length > 0 && x.length <= 200))].slice(0, BATCH_MAX)
				let extra: Partial<KeysState> = {}
				try {
					const model = action === 'test' || action === 'test_all' ? await testModel(form) : undefined
					if (model) extra.testModel = model
					if (action === 'test_all' || action === 'test') {
						if (action === 'test' && !ids.length) throw new FormError('keys.selectSome')
						const results = await tests().testMany(action === 'test_all' ? undefined : ids, model)
						const answered = results.filter((r) => r.result?.ok).length
						const tested = results.filter((r) => r.result).length
						const text = v.t('keys.testedMany', { n: tested, ok: answered, failed: tested - answered })
						extra = { ...extra, ...(answered === tested ? { message: text } : { error: text }) }
					} else if (action === 'enable' || action === 'disable' || action === 'delete') {
						if (!ids.length) throw new FormError('keys.selectSome')
						if (action === 'delete' && field(form, 'confirm') !== 'yes') extra = { question: deleteQuestion(v.t, ids) }
						else {
							let changed = 0
							let env = 0
							let missing = 0
							for (const id of ids) {
								if (action === 'delete') {
									const r = await deps.pool.removeKey(id)
									if (r === 'removed') changed++
									else if (r === 'env_key') env++
									else missing++
								} else {
									const record = await deps.pool.setStatus(
										id,
										action === 'disable' ? 'disabled' : 'active',
										action === 'disable' ? 'disabled by the operator' : null,
									)
									if (record) changed++
									else missing++
								}
							}
							const lines = [v.t('keys.batchDone', { n: changed })]
							if (env) lines.push(v.t('keys.batchEnvKept', { n: env }))
							if (missing) lines.push(v.t('keys.batchMissing', { n: missing }))
							extra = env || missing ? { error: lines.join(' ') } : { message: lines[0] as string }
						}
					} else throw new FormError('keys.unknownAction', { action: action.slice(0, 40) })
				} catch (err) {
					extra = { ...extra, error: message(err, v.t) }
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
				const form = await postedForm(kit, request, v)
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
						const answer = await tests().test(id, await testModel(form))
						if (!answer) throw new FormError('keys.noSuch')
						const result = { ok: answer.ok, status: answer.status, ms: answer.latency_ms, model: answer.model, text: answer.text }
						extra = answer.ok ? { message: testedText(v.t, answer.key, result) } : { error: testedText(v.t, answer.key, result) }
					} else throw new FormError('keys.unknownAction', { action: action.slice(0, 40) })
				} catch (err) {
					extra = { error: message(err, v.t) }
				}
				return show(kit, request, v, 'keys', keysTable(v.t, await state(v.t, extra)))
			},
			{ parse: 'none', detail: { hide: true } },
		)
}
