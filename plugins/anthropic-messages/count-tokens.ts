/**
 * `POST /v1/messages/count_tokens`: a documented, stable estimate, computed locally (the
 * upstream has no tokenizer endpoint, and the right tokenizer differs per provider).
 *
 *   input_tokens = ceil(characters / 4) over the system prompt, every text block, every
 *                  tool_use input and tool_result text (as JSON / text), and every tool
 *                  definition (name, description, input_schema as JSON),
 *                + 1,600 per image (Anthropic's figure for a ~1.15-megapixel image),
 *                + 4 per message (role and framing).
 *
 * The same request always gives the same number; it is close to, not equal to, what the
 * provider will bill. Pure.
 */
import { isObject } from '../../core/json.ts'

export const IMAGE_TOKENS = 1600
export const MESSAGE_OVERHEAD = 4

export function estimateInputTokens(body: Record<string, unknown>): number {
	let chars = 0
	let extra = 0
	const walk = (content: unknown): void => {
		if (typeof content === 'string') {
			chars += content.length
			return
		}
		if (!Array.isArray(content)) return
		for (const block of content) {
			if (!isObject(block)) continue
			switch (block.type) {
				case 'text':
					if (typeof block.text === 'string') chars += block.text.length
					break
				case 'image':
					extra += IMAGE_TOKENS
					break
				case 'thinking':
					if (typeof block.thinking === 'string') chars += block.thinking.length
					break
				case 'tool_use':
					chars += (typeof block.name === 'string' ? block.name.length : 0) + JSON.stringify(block.input ?? {}).length
					break
				case 'tool_result':
					walk(block.content)
					break
				case 'document':
					if (isObject(block.source) && typeof block.source.data === 'string') chars += block.source.data.length
					break
			}
		}
	}
	walk(body.system)
	if (Array.isArray(body.messages)) {
		for (const message of body.messages) {
			if (!isObject(message)) continue
			extra += MESSAGE_OVERHEAD
			walk(message.content)
		}
	}
	if (Array.isArray(body.tools)) {
		for (const tool of body.tools) {
			if (!isObject(tool)) continue
			chars += (typeof tool.name === 'string' ? tool.name.length : 0) + (typeof tool.description === 'string' ? tool.description.length : 0)
			chars += JSON.stringify(tool.input_schema ?? {}).length
		}
	}
	return Math.ceil(chars / 4) + extra
}
