/**
 * The other encoding of a tool history. Claude behind the gateway (Amazon Bedrock) sometimes
 * refuses a tool history in the current format (assistant `tool_calls` + `tool` messages) with a
 * validation error; the gateway also documents an older format of the same history, items
 * without a role (upstream-api.md §3.2):
 *
 *   {"type":"function_call","tool_call_id","name","arguments":"<json string>"}
 *   {"type":"function_call_output","tool_call_id","name","output":"<string>"}
 *
 * On those two Bedrock errors the request is sent once more in this encoding.
 */
import { isObject } from '../../core/json.ts'

type GatewayMessage = Record<string, unknown>

/** The two Bedrock validation errors that the other encoding of a tool history avoids. */
export function isToolEncodingError(text: string): boolean {
	return /tool_use\.input: Field required/i.test(text) || /does not support assistant message prefill/i.test(text)
}

/** Whether the (translated) history holds a tool call or a tool result: only then is there another encoding. */
export function hasToolHistory(messages: readonly GatewayMessage[]): boolean {
	return messages.some((m) => m.role === 'tool' || (Array.isArray(m.tool_calls) && m.tool_calls.length > 0))
}

const textOf = (content: unknown): string => {
	if (typeof content === 'string') return content
	if (!Array.isArray(content)) return ''
	return content
		.filter(isObject)
		.map((part) => (typeof part.text === 'string' ? part.text : ''))
		.join('\n')
}

/** The gateway messages with every tool call and tool result as a legacy item; other messages unchanged. */
export function toLegacyToolItems(messages: readonly GatewayMessage[]): GatewayMessage[] {
	const names = new Map<string, string>()
	const out: GatewayMessage[] = []
	for (const message of messages) {
		if (message.role === 'assistant' && Array.isArray(message.tool_calls) && message.tool_calls.length > 0) {
			const { tool_calls: calls, ...rest } = message
			// Text said beside the calls stays an assistant message of its own.
			if (textOf(rest.content) !== '') out.push(rest)
			for (const call of calls as GatewayMessage[]) {
				const fn = isObject(call.function) ? call.function : {}
				const id = String(call.id)
				const name = typeof fn.name === 'string' ? fn.name : 'unknown_function'
				names.set(id, name)
				out.push({
					type: 'function_call',
					tool_call_id: id,
					name,
					arguments: typeof fn.arguments === 'string' ? fn.arguments : JSON.stringify(fn.arguments ?? {}),
				})
			}
			continue
		}
		if (message.role === 'tool') {
			const id = String(message.tool_call_id)
			out.push({
				type: 'function_call_output',
				tool_call_id: id,
				name: names.get(id) ?? (typeof message.name === 'string' ? message.name : 'unknown_function'),
				output: textOf(message.content),
			})
			continue
		}
		out.push(message)
	}
	return out
}
