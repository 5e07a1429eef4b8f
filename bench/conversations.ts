/**
 * Conversations benchmark: what cache affinity saves. N conversations of M turns each, every
 * conversation with its own long system prompt, over three keys with CALLS_PER_ROTATION=1 (the
 * worst case for a provider's cache), run twice: PROMPT_CACHE_AFFINITY on and off. The gateway
 * runs in process against the fake upstream, whose per-key prompt caches follow the upstream's
 * documented rules; each turn is sent through the official OpenAI SDK.
 *
 *   bun bench/conversations.ts [conversations=150] [turns=12] [model=claude-sonnet-4-6]
 *
 * Reported per run: the share of cacheable prompt tokens (the marked system prompts) read from
 * cache, the share of all prompt tokens read from cache, the spend at the catalog's global prices
 * (or tokens only when the model has none), and requests per key with the largest deviation
 * from an even share.
 */
import OpenAI from 'openai'
import { buildApp } from '../core/kernel.ts'
import { MemoryStorage } from '../core/storage.ts'
import { type CatalogPricingTier, createFakeGateway, FAKE_CATALOG } from '../test/fake-gateway.ts'

const KEYS = ['conv-key-aaaaaaaaaaaaaaaaaaaaaa1', 'conv-key-bbbbbbbbbbbbbbbbbbbbbb2', 'conv-key-cccccccccccccccccccccc3']
const PASSWORD = 'conversations-bench-password'
const [conversations = 150, turns = 12] = process.argv.slice(2, 4).map(Number)
const model = process.argv[4] ?? 'claude-sonnet-4-6'

/** About 1,600 words of instructions, the same for everyone; each conversation adds its own brief in front. */
const SHARED = Array.from({ length: 1600 }, (_, i) => ['always', 'cite', 'sources', 'and', 'keep', 'answers', 'precise', 'please'][i % 8]).join(' ')
const systemPrompt = (c: number) => `You are agent ${c}, working on project ${c * 7919}. ${SHARED}`

interface RunResult {
	requests: number
	promptTokens: number
	cacheable: number
	cached: number
	written: number
	completion: number
	spend: number | null
	perKey: number[]
	choices: Record<string, number>
}

async function run(affinity: boolean): Promise<RunResult> {
	const fake = createFakeGateway({ keys: Object.fromEntries(KEYS.map((k) => [k, {}])), limit: 1_000_000 })
	const choices: Record<string, number> = {}
	const gateway = await buildApp(
		{
			API_PASSWORD: PASSWORD,
			PANEL_PASSWORD: `${PASSWORD}-panel`,
			ASSEMBLY_API_KEYS: KEYS.join(','),
			ASSEMBLY_ENDPOINT: 'http://fake-gateway.bench/v1/chat/completions',
			CALLS_PER_ROTATION: '1',
			PROMPT_CACHE_AFFINITY: String(affinity),
			LOG_LEVEL: 'info',
		},
		{
			storage: new MemoryStorage(),
			fetch: ((input: RequestInfo | URL, init?: RequestInit) => fake.fetch(new Request(input, init))) as typeof fetch,
			print: () => {},
			log: {
				stdout: false,
				file: null,
				extra: {
					write: (line: string) => {
						const choice = /"key_choice":"(\w+)"/.exec(line)?.[1]
						if (choice) choices[choice] = (choices[choice] ?? 0) + 1
					},
				},
			},
		},
	)
	const client = new OpenAI({
		apiKey: PASSWORD,
		baseURL: 'http://amb2api.bench/v1',
		fetch: ((input: RequestInfo | URL, init?: RequestInit) => gateway.app.handle(new Request(input, init))) as typeof fetch,
	})
	const histories = Array.from(
		{ length: conversations },
		(_, c) => [{ role: 'system' as const, content: systemPrompt(c) }] as OpenAI.ChatCompletionMessageParam[],
	)
	// Turn by turn over every conversation, as many agents working at once would interleave.
	for (let t = 0; t < turns; t++) {
		await Promise.all(
			histories.map(async (history, c) => {
				history.push({ role: 'user', content: `Conversation ${c}, question ${t}: what next?` })
				const answer = await client.chat.completions.create({ model, messages: history, max_tokens: 40 })
				history.push({ role: 'assistant', content: answer.choices[0]?.message.content ?? '' })
			}),
		)
	}
	const price: CatalogPricingTier | undefined = FAKE_CATALOG.find((e) => e.id === model)?.pricing?.global
	const result: RunResult = {
		requests: 0,
		promptTokens: 0,
		cacheable: 0,
		cached: 0,
		written: 0,
		completion: 0,
		spend: price ? 0 : null,
		perKey: KEYS.map(() => 0),
		choices,
	}
	for (const rec of fake.requests) {
		if (rec.path !== '/v1/chat/completions' || rec.status !== 200) continue
		const body = rec.body as { messages: { role: string; content: string }[] }
		const prompt = Math.ceil(body.messages.reduce((n, m) => n + m.content.length, 0) / 4)
		const cache = rec.cache ?? { cached: 0, written5m: 0, written1h: 0 }
		const completion = 40
		result.requests++
		result.perKey[KEYS.indexOf(rec.key!)]!++
		result.promptTokens += prompt
		result.cacheable += Math.ceil((body.messages[0]?.content.length ?? 0) / 4)
		result.cached += cache.cached
		result.written += cache.written5m + cache.written1h
		result.completion += completion
		if (price && result.spend !== null) {
			const plain = prompt - cache.cached - cache.written5m - cache.written1h
			result.spend +=
				(plain * price.prompt +
					cache.cached * (price.input_cache_read ?? price.prompt) +
					cache.written5m * (price.input_cache_write ?? price.prompt) +
					cache.written1h * (price.input_cache_write_1h ?? price.prompt) +
					completion * price.completions) /
				1_000_000
		}
	}
	await gateway.close()
	return result
}

const pct = (a: number, b: number) => `${((100 * a) / Math.max(1, b)).toFixed(1)} %`
function report(name: string, r: RunResult) {
	const mean = r.requests / KEYS.length
	const deviation = Math.max(...r.perKey.map((n) => Math.abs(n - mean) / mean))
	console.log(`\n${name}`)
	console.log(`  requests ${r.requests}; key choice ${JSON.stringify(r.choices)}`)
	console.log(`  cacheable prompt tokens read from cache: ${pct(r.cached, r.cacheable)} (${r.cached} of ${r.cacheable})`)
	console.log(`  all prompt tokens read from cache:       ${pct(r.cached, r.promptTokens)} (of ${r.promptTokens}); written to cache: ${r.written}`)
	console.log(`  spend: ${r.spend === null ? `unpriced (${r.promptTokens} prompt + ${r.completion} completion tokens)` : `$${r.spend.toFixed(4)}`}`)
	console.log(`  requests per key: ${r.perKey.join(' / ')} (largest deviation from an even share: ${(100 * deviation).toFixed(1)} %)`)
}

console.log(
	`${conversations} conversations x ${turns} turns, ${KEYS.length} keys, CALLS_PER_ROTATION=1, model ${model}, system prompt ~${Math.ceil(systemPrompt(0).length / 4)} tokens`,
)
const on = await run(true)
report('PROMPT_CACHE_AFFINITY=true', on)
const off = await run(false)
report('PROMPT_CACHE_AFFINITY=false', off)
if (on.spend !== null && off.spend !== null) console.log(`\naffinity saves ${pct(off.spend - on.spend, off.spend)} of the spend`)
process.exit(0)
