/**
 * The one chat core every API dialect calls: the chat request type and its checks (body size,
 * nesting), the pipeline with the streaming modes (fake streaming with heartbeats, keep-alives,
 * anti-truncation), the concurrency limit, and chunk events. The dialects (openai-router,
 * anthropic-messages, openai-responses) translate to it and back, nothing else.
 */
import { bool, int, list, type Parser, seconds, spec } from '../../core/config.ts'
import { ConfigError } from '../../core/config.ts'
import { definePlugin } from '../../core/plugin.ts'
import { ChatCore } from './chat-core.ts'
import { ConcurrencyLimit } from './concurrency-limit.ts'
import type { HeartbeatStyle } from './fake-stream.ts'
import { ChatPipeline } from './pipeline.ts'

declare module '../../core/plugin.ts' {
	interface Services {
		/** The chat core every API dialect calls. */
		chat: ChatCore
	}
}

const heartbeatStyle: Parser<HeartbeatStyle> = (raw, name) => {
	const value = raw.trim().toLowerCase()
	if (value === 'comment' || value === 'chunk') return value
	throw new ConfigError(`${name}=${JSON.stringify(raw)}: must be comment or chunk`)
}

export const plugin = definePlugin({
	name: 'chat-core',
	description: 'the chat core every dialect calls: request checks, streaming modes (假流式/, 流式抗截断/, keep-alives), the concurrency limit',
	optional: false,
	needs: ['assembly', 'catalog', 'now', 'apiAuth'],
	uses: ['requestLog'],
	provides: ['chat'],
	settings: {
		keepAlive: spec(
			'STREAM_KEEPALIVE_SECONDS',
			seconds(0, 3600),
			15,
			'SSE keep-alive comment after this many seconds of silence in a real stream; 0 = off',
			'stream_keepalive_seconds',
		),
		fakeAll: spec(
			'FAKE_STREAM_ENABLED',
			bool,
			false,
			'fake-stream every streamed request (a non-streamed upstream call with heartbeats)',
			'fake_stream_enabled',
		),
		fakeModels: spec<string[]>(
			'FAKE_STREAM_MODELS',
			list,
			[],
			'models whose streamed requests are always fake-streamed (comma separated)',
			'fake_stream_models',
		),
		heartbeat: spec(
			'FAKE_STREAM_HEARTBEAT_SECONDS',
			seconds(0.05, 600),
			3,
			'seconds between fake-stream heartbeats; also how long the first byte may wait',
			'fake_stream_heartbeat_seconds',
		),
		heartbeatStyle: spec<HeartbeatStyle>(
			'FAKE_STREAM_HEARTBEAT_STYLE',
			heartbeatStyle,
			'comment',
			'fake-stream heartbeats as SSE comments (comment) or empty-content chunks (chunk)',
			'fake_stream_heartbeat_style',
		),
		speed: spec(
			'FAKE_STREAM_SPEED',
			int(0, 1_000_000),
			0,
			'fake-stream content pacing in characters per second (slices every 50 ms); 0 = all at once',
			'fake_stream_speed',
		),
		fakeList: spec('FAKE_STREAM_LIST_MODELS', bool, false, 'list 假流式/<model> variants in /v1/models', 'fake_stream_list_models'),
		antiAll: spec('ANTI_TRUNCATION_ENABLED', bool, false, 'anti-truncation for every request', 'anti_truncation_enabled'),
		antiModels: spec<string[]>('ANTI_TRUNCATION_MODELS', list, [], 'models that always get anti-truncation (comma separated)', 'anti_truncation_models'),
		maxContinuations: spec(
			'ANTI_TRUNCATION_MAX_CONTINUATIONS',
			int(0, 20),
			3,
			'follow-up requests anti-truncation may make for one answer',
			'anti_truncation_max_continuations',
		),
		antiList: spec('ANTI_TRUNCATION_LIST_MODELS', bool, false, 'list 流式抗截断/<model> variants in /v1/models', 'anti_truncation_list_models'),
	},
	setup: ({ services, settings, config }) => {
		const pipeline = new ChatPipeline(
			{ client: services.assembly, catalog: services.catalog, now: services.now },
			{
				keepAliveMs: settings.keepAlive * 1000,
				fakeStream: {
					all: settings.fakeAll,
					models: settings.fakeModels,
					heartbeatMs: settings.heartbeat * 1000,
					heartbeat: settings.heartbeatStyle,
					charsPerSecond: settings.speed,
					listModels: settings.fakeList,
				},
				antiTruncation: { all: settings.antiAll, models: settings.antiModels, maxContinuations: settings.maxContinuations, listModels: settings.antiList },
			},
		)
		const chat = new ChatCore({
			pipeline,
			auth: services.apiAuth,
			limit: new ConcurrencyLimit(config.limits.maxConcurrent),
			maxBodyBytes: config.limits.maxBodyBytes,
			recorder: services.requestLog,
		})
		return { services: { chat } }
	},
})
