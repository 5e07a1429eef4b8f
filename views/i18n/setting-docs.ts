/**
 * The settings' one-line documentation in languages other than English. A setting's English
 * line lives with its declaration (the plugin's `settings`); its translation lives here, by
 * environment name. A setting missing here falls back to English, and the panel's language test
 * fails, so a new setting gets its translation in the same change.
 */
import type { Lang } from './i18n.ts'

export const SETTING_DOCS: Readonly<Record<Exclude<Lang, 'en'>, Readonly<Record<string, string>>>> = {
	'zh-CN': {
		HOST: '监听地址',
		PORT: '监听端口',
		API_PASSWORD: '/v1/* 的 Bearer 令牌（未设置时生成并打印一次）',
		PANEL_PASSWORD: '面板登录密码，也是 /admin/* 的 Bearer 令牌（未设置时生成）',
		PASSWORD: '两个密码共用的后备值',
		UPSTREAM_TIMEOUT: '等待上游应答头的秒数（超时返回 504），也是流中允许的最长静默',
		REQUEST_TIMEOUT: '一个客户端请求在应答开始前最多可用的秒数，包括所有重试（超时返回 504）',
		MAX_BODY_SIZE: '接受的最大请求体（例如 16mb）；更大的请求体返回 413',
		MAX_CONCURRENT_REQUESTS: '同时进行的上游请求数（含流）；超过后新的聊天请求返回 503 并带 Retry-After',
		LOG_LEVEL: 'debug、info、warning 或 error',
		LOG_FILE: 'NDJSON 日志文件（同时写到标准输出）',
		LOG_BODY_MAX: 'LOG_LEVEL=debug 时每个请求/上游/应答正文写入日志的字符数，已去除机密（0：不写正文）',
		PROXY: '上游调用使用的 HTTP(S) 代理',
		CONFIG_OVERRIDE_ENV: 'true：环境变量优先于已保存的设置；false：已保存的设置优先',
		PLUGINS: '要加载的插件："all"（默认）或名称列表',
		DISABLE_PLUGINS: '要关闭的可选插件，例如 admin-panel,docs',
		TRUSTED_PROXY: '可信反向代理的地址，其 X-Forwarded-For / X-Forwarded-Proto 会被采信（用于登录限流的客户端地址和 Secure Cookie）',
		ASSEMBLY_ENDPOINT: '上游聊天 URL；把 /chat/completions 换成 /models 即为模型目录 URL',
		RETRY_429_ENABLED: '失败的尝试换另一个密钥重试',
		RETRY_429_MAX_RETRIES: '每个客户端请求额外尝试的次数，所有阶段共用',
		RETRY_429_INTERVAL: '5xx 或网络错误之后两次尝试之间的秒数',
		MODELS_CACHE_TTL: '上游模型目录的缓存秒数',
		MODEL_REGION: '发往上游的默认 model_region',
		DAILY_REQUEST_LIMIT: '每个上游密钥每个用量日（UTC 07:00 至次日 07:00）的请求数，除非该密钥有自己的上限；0 表示不限',
		METRICS_TOKEN: 'GET /metrics 的 Bearer 令牌（面板密码也可以）',
		ASSEMBLY_API_KEYS: '上游密钥，用逗号分隔；与通过 /admin/keys 添加的密钥组成同一个池',
		CALLS_PER_ROTATION: '一个密钥连续处理多少个请求后轮换到下一个',
		AUTO_BAN: '上游以 AUTO_BAN_ERROR_CODES 中的状态拒绝某个密钥时将其封禁',
		AUTO_BAN_ERROR_CODES: 'AUTO_BAN 开启时会封禁密钥的上游状态码（绝不包括客户端自身的 4xx，也不包括单个模型的访问权限缺失）',
		SECRETS_KEY:
			'加密已保存的上游密钥（AES-256-GCM）：32 字节，base64 或 hex；使用文件存储且未设置时生成到 CREDENTIALS_DIR/secrets.key；使用共享后端时每个实例都必须设置',
		SECRETS_KEY_PREVIOUS: '轮换前的 SECRETS_KEY：用它加密的密钥会被读出并用 SECRETS_KEY 重新加密',
		RATE_LIMIT_MAX_WAIT: '所有密钥都达到上限时，最多等待重置这么多秒，否则返回 429',
		CREDENTIALS_DIR: '文件存储目录（默认后端）',
		MONGODB_URI: 'MongoDB 存储，mongodb:// 或 mongodb+srv://',
		MONGODB_DATABASE: 'MongoDB 数据库名',
		POSTGRES_DSN: 'PostgreSQL 存储，postgres://user@host:5432/db[?search_path=schema]',
		REDIS_URI: 'Redis 存储，redis:// 或 rediss://（优先级最高）',
		REDIS_PREFIX: '所有 Redis 键的命名空间',
		STREAM_KEEPALIVE_SECONDS: '真实流静默这么多秒后发送 SSE 保活注释；0 表示关闭',
		FAKE_STREAM_ENABLED: '对每个流式请求使用假流式（一次非流式上游调用，期间发送心跳）',
		FAKE_STREAM_MODELS: '流式请求总是使用假流式的模型（用逗号分隔）',
		FAKE_STREAM_HEARTBEAT_SECONDS: '假流式心跳的间隔秒数；也是第一个字节最多等待的时间',
		FAKE_STREAM_HEARTBEAT_STYLE: '假流式心跳的形式：SSE 注释（comment）或空内容块（chunk）',
		FAKE_STREAM_SPEED: '假流式内容的输出速度，单位为字符每秒（每 50 ms 一段）；0 表示一次全部输出',
		FAKE_STREAM_LIST_MODELS: '在 /v1/models 中列出 假流式/<model> 变体',
		ANTI_TRUNCATION_ENABLED: '对每个请求启用防截断',
		ANTI_TRUNCATION_MODELS: '总是启用防截断的模型（用逗号分隔）',
		ANTI_TRUNCATION_MAX_CONTINUATIONS: '防截断为一个回答最多发起的续写请求数',
		ANTI_TRUNCATION_LIST_MODELS: '在 /v1/models 中列出 流式抗截断/<model> 变体',
		STORAGE_TIMEOUT_MS: '一次共享存储后端调用可用的毫秒数；超过后视为后端不可用，网关改由内存提供服务，直到后端再次应答',
		LOG_MAX_BYTES: 'LOG_FILE 达到此大小时轮转（改名为 LOG_FILE.1），例如 20mb；0 = 从不轮转',
		LOG_BACKUP_COUNT: '保留的轮转日志文件数（LOG_FILE.1 最新 … LOG_FILE.N 最旧）',
		KEY_SELECTION: '没有稳定提示词前缀的请求的选钥顺序：round_robin（每个密钥 CALLS_PER_ROTATION 次）、fill_first 或 random',
		PROMPT_CACHE_AFFINITY: '稳定提示词前缀（或 prompt_cache_key）相同的请求在该密钥有余量时优先使用同一个密钥，使提供方的提示词缓存保持有效',
		PROMPT_CACHE_MODE:
			'conservative：没有 cache_control 的 Claude 请求在开头的系统消息上加临时缓存标记，没有 prompt_cache_key 的 OpenAI 系列请求按稳定前缀的哈希得到一个；off：不加',
		PROMPT_CACHE_TTL: '自动 Claude 缓存标记的有效期（5m 或 1h）',
		MAX_TOKENS_MODE: '没有 max_tokens 的请求按模型上限补一个：off（网关默认 1000）、low（至少 4096）、medium（一半）、high（全部）',
		STREAM_BOOTSTRAP_RETRIES: '原生流在第一个数据块之前中断时，换另一个密钥重发的次数（在重试预算之内）',
		REQUEST_LOG_DAYS: '超过这么多天的请求日志记录会被删除',
		REQUEST_LOG_MAX_ROWS: '最多保留这么多条请求日志记录（最旧的先删）；文件存储把它们放在内存中',
		SPEECH_BASE_URL: 'AssemblyAI 语音转文字的基础 URL；欧盟为 https://api.eu.assemblyai.com',
		SPEECH_MAX_FILE_SIZE: '接受的最大音频文件（例如 100mb）；更大的文件在上传过程中即返回 413',
		SPEECH_MAX_WAIT: '一次转写（含上传和轮询）最多可用的秒数（超时返回 504）',
		SPEECH_POLL_INTERVAL: '开始时两次查询转写结果之间的秒数（逐渐增加到 3 倍）',
		SPEECH_MAX_ATTEMPTS: '每次转写最多尝试的密钥数（401/403、429、5xx 时换密钥）',
		SPEECH_DEFAULT_MODELS: 'whisper-1 和 gpt-4o-transcribe 使用的 AssemblyAI 语音模型（按优先顺序）',
		SPEECH_PRICES: '每个语音模型每小时音频的美元价格，例如 universal-3-pro=0.21（补充或替换公布的价格）',
		CORS_ALLOW_ORIGINS: '允许从浏览器调用 /v1/* 的来源，逗号分隔；* = 任何来源（不带凭据）；列表时回显匹配的来源',
		KEY_REVALIDATE_MINUTES: '每隔这么多分钟，用最便宜的模型重新测试被封禁和失败的密钥，能应答的即恢复；0 = 关闭',
		INCIDENT_PROBE_INTERVAL: '上游或网络故障期间两次重新探测之间的秒数（每次测试一个密钥）',
	},
}

/** A setting's documentation in `lang`; English (its declaration) when there is no translation. */
export function settingDoc(lang: Lang, env: string, english: string): string {
	return lang === 'en' ? english : (SETTING_DOCS[lang][env] ?? english)
}
