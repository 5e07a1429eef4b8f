/** The page shell shared by every panel page. */
import { html, type SafeHtml } from './html.ts'

export function layout(title: string, body: SafeHtml): string {
	return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · amb2api</title>
<script src="/ui/assets/htmx.js" defer></script>
<style>
body{font-family:system-ui,sans-serif;max-width:960px;margin:2rem auto;padding:0 1rem;color:#1d1d1f}
header{display:flex;justify-content:space-between;align-items:center;border-bottom:1px solid #ddd;margin-bottom:1rem}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #eee;padding:.35rem .5rem;text-align:left}
.error{color:#b00020}.muted{color:#666}form.inline{display:inline}
input,button{font:inherit;padding:.3rem .6rem}
</style>
</head>
<body>${body}</body>
</html>`.toString()
}
