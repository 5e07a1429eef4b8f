/**
 * What /metrics reports. Counters and histograms are fed as things happen: finished HTTP requests
 * (the kernel's request observers), chat requests and upstream attempts (the upstream client's
 * recorder events), open streams. Key headroom and storage state are read when scraped: the key
 * pool's own report, and one timed storage read.
 */
import type { FinishedRequest } from '../../core/request-log.ts'
import type { Storage } from '../../core/storage.ts'
import type { KeyReport } from '../rate-limits/key-pool.ts'
import type { AttemptEvent, RequestEvent, UsageRecorder } from '../usage-stats/events.ts'
import { Counter, exposition, Gauge, Histogram } from './prometheus.ts'

export interface CollectorDeps {
	storage: Storage
	/** The key pool's report, when the pool is loaded. */
	keys?: () => Promise<KeyReport[]>
	version: string
	now?: () => number
}

export class MetricsCollector implements UsageRecorder {
	private readonly httpRequests = new Counter('amb2api_http_requests_total', 'HTTP requests answered, by method, route pattern and status', [
		'method',
		'route',
		'status',
	])
	private readonly httpDuration = new Histogram(
		'amb2api_http_request_duration_seconds',
		"Time until the answer (or a stream's headers) was ready, by route pattern",
		['route'],
	)
	private readonly chats = new Counter('amb2api_chat_requests_total', 'Chat requests finished, by model, status, failure class and streaming', [
		'model',
		'status',
		'failure',
		'stream',
	])
	private readonly tokens = new Counter('amb2api_chat_tokens_total', 'Tokens of successful chat requests, by model and kind (prompt, completion)', [
		'model',
		'kind',
	])
	// Labels stay bounded: a model is one the catalog serves (unknown ones are refused before any call).
	private readonly spend = new Counter('amb2api_spend_usd_total', 'Cost in USD of the chat requests whose model has a price, by the model that answered', [
		'model',
	])
	private readonly unpriced = new Counter(
		'amb2api_unpriced_requests_total',
		'Chat requests with usage whose model has no price (their cost is unknown), by model',
		['model'],
	)
	private readonly transcriptions = new Counter('amb2api_transcription_requests_total', 'Transcriptions finished, by speech model, status and failure class', [
		'model',
		'status',
		'failure',
	])
	private readonly audioSeconds = new Counter('amb2api_audio_seconds_total', 'Seconds of audio transcribed, by speech model', ['model'])
	private readonly audioCost = new Counter('amb2api_audio_cost_usd_total', 'Cost of the audio transcribed in USD, by speech model (priced models only)', [
		'model',
	])
	private readonly attempts = new Counter('amb2api_upstream_attempts_total', 'Upstream attempts, by model, outcome and upstream status', [
		'model',
		'outcome',
		'status',
	])
	private readonly attemptDuration = new Histogram(
		'amb2api_upstream_attempt_duration_seconds',
		'Upstream attempt latency until the answer headers, by model and outcome',
		['model', 'outcome'],
	)
	private readonly openStreams = new Gauge('amb2api_open_streams', 'Streams to clients open right now, by model', ['model'])
	private readonly keyStatus = new Gauge('amb2api_key_status', 'Each upstream key (masked) and its status: 1 for the current one', ['key_id', 'key', 'status'])
	private readonly keyRemaining = new Gauge(
		'amb2api_key_remaining_requests',
		'Requests a key has left in its current window for a model (learned from X-RateLimit-*); absent while unknown',
		['key_id', 'key', 'model'],
	)
	private readonly keyLimit = new Gauge('amb2api_key_limit_requests', "A key's request limit per window for a model; absent while unknown", [
		'key_id',
		'key',
		'model',
	])
	private readonly keyReset = new Gauge('amb2api_key_reset_seconds', "Seconds until a key's window for a model resets; absent while unknown", [
		'key_id',
		'key',
		'model',
	])
	private readonly storageProbe = new Histogram(
		'amb2api_storage_probe_duration_seconds',
		'Latency of one settings read from the storage backend, measured at each scrape',
		['backend'],
		[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
	)
	private readonly storageLast = new Gauge('amb2api_storage_probe_last_seconds', "Latency of the last scrape's storage read (-1 when it failed)", ['backend'])
	private readonly storageHealthy = new Gauge(
		'amb2api_storage_healthy',
		'1 when the storage backend answers; 0 while the resilience layer serves from memory (or the read failed)',
		['backend'],
	)
	private readonly info = new Gauge('amb2api_info', 'Always 1; the labels say which amb2api runs', ['version'])
	private readonly now: () => number

	constructor(private readonly deps: CollectorDeps) {
		this.now = deps.now ?? (() => performance.now())
		this.info.set({ version: deps.version }, 1)
	}

	// ---- fed as things happen ----

	request(r: FinishedRequest): void {
		const route = r.route || 'unmatched'
		this.httpRequests.inc({ method: r.method, route, status: String(r.status) })
		this.httpDuration.observe({ route }, r.ms / 1000)
	}

	attempt(e: AttemptEvent): void {
		this.attempts.inc({ model: e.model, outcome: e.outcome, status: e.status === null ? 'none' : String(e.status) })
		if (e.ms !== undefined) this.attemptDuration.observe({ model: e.model, outcome: e.outcome }, e.ms / 1000)
	}

	finished(e: RequestEvent): void {
		if (e.audio) {
			this.transcriptions.inc({ model: e.model, status: String(e.status), failure: e.failure ?? 'none' })
			if (e.ok && e.audio.seconds > 0) this.audioSeconds.inc({ model: e.model }, e.audio.seconds)
			if (e.ok && e.audio.costMicroUsd) this.audioCost.inc({ model: e.model }, e.audio.costMicroUsd / 1_000_000)
			return
		}
		this.chats.inc({ model: e.model, status: String(e.status), failure: e.failure ?? 'none', stream: String(e.stream) })
		if (e.ok && e.usage) {
			this.tokens.inc({ model: e.model, kind: 'prompt' }, e.usage.prompt_tokens)
			this.tokens.inc({ model: e.model, kind: 'completion' }, e.usage.completion_tokens)
		}
		const model = e.answeredModel ?? e.model
		if (e.cost) this.spend.inc({ model }, e.cost.nusd / 1e9)
		else if (e.cost === null) this.unpriced.inc({ model })
	}

	streamOpened(model: string): () => void {
		this.openStreams.inc({ model })
		return () => this.openStreams.inc({ model }, -1)
	}

	// ---- read when scraped ----

	private async scrapeKeys(): Promise<void> {
		this.keyStatus.reset()
		this.keyRemaining.reset()
		this.keyLimit.reset()
		this.keyReset.reset()
		if (!this.deps.keys) return
		for (const k of await this.deps.keys()) {
			this.keyStatus.set({ key_id: k.id, key: k.key, status: k.status }, 1)
			for (const [model, m] of Object.entries(k.models)) {
				const labels = { key_id: k.id, key: k.key, model }
				if (m.remaining !== null) this.keyRemaining.set(labels, m.remaining)
				if (m.limit !== null) this.keyLimit.set(labels, m.limit)
				if (m.reset_in_seconds !== null) this.keyReset.set(labels, m.reset_in_seconds)
			}
		}
	}

	private async scrapeStorage(): Promise<void> {
		const backend = this.deps.storage.kind
		const started = this.now()
		let ok = true
		try {
			await this.deps.storage.loadSettings()
		} catch {
			ok = false
		}
		const seconds = (this.now() - started) / 1000
		if (ok) this.storageProbe.observe({ backend }, seconds)
		this.storageLast.set({ backend }, ok ? seconds : -1)
		const healthy = (this.deps.storage as { healthy?: boolean }).healthy
		this.storageHealthy.set({ backend }, ok && healthy !== false ? 1 : 0)
	}

	async render(): Promise<string> {
		await Promise.all([this.scrapeKeys(), this.scrapeStorage()])
		return exposition([
			this.info,
			this.httpRequests,
			this.httpDuration,
			this.chats,
			this.tokens,
			this.spend,
			this.unpriced,
			this.transcriptions,
			this.audioSeconds,
			this.audioCost,
			this.attempts,
			this.attemptDuration,
			this.openStreams,
			this.keyStatus,
			this.keyRemaining,
			this.keyLimit,
			this.keyReset,
			this.storageProbe,
			this.storageLast,
			this.storageHealthy,
		])
	}
}
