/** Amounts of USD as the panel writes them: cents, or six decimals below a cent (a request costs fractions of one). */
export function usd(value: number): string {
	const digits = value !== 0 && Math.abs(value) < 0.01 ? 6 : 2
	return `$${value.toFixed(digits)}`
}
