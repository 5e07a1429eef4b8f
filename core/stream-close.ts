/** Calls `onClose` once when a byte stream ends, fails or is cancelled by its reader; bytes pass unchanged. */
export function onStreamClose(stream: ReadableStream<Uint8Array>, onClose: () => void): ReadableStream<Uint8Array> {
	const reader = stream.getReader()
	let closed = false
	const close = () => {
		if (closed) return
		closed = true
		onClose()
	}
	return new ReadableStream<Uint8Array>({
		async pull(controller) {
			try {
				const { done, value } = await reader.read()
				if (done) {
					close()
					controller.close()
				} else controller.enqueue(value)
			} catch (err) {
				close()
				controller.error(err)
			}
		},
		cancel(reason) {
			close()
			return reader.cancel(reason)
		},
	})
}
