/**
 * Every relative link in README.md and docs/ resolves to a file of this repository (and, for a
 * Markdown page with an #anchor, to one of its headings); nothing links outside the repository.
 */
import { describe, expect, test } from 'bun:test'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'

const ROOT = resolve(import.meta.dir, '..')

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to dashes, repeats numbered. */
function anchors(markdown: string): Set<string> {
	const seen = new Map<string, number>()
	const out = new Set<string>()
	for (const line of withoutFences(markdown).split('\n')) {
		const heading = /^#{1,6}\s+(.+?)\s*#*\s*$/.exec(line)?.[1]
		if (!heading) continue
		const base = heading
			.toLowerCase()
			.replace(/[^\p{L}\p{N}\s_-]/gu, '')
			.replace(/\s/g, '-')
		const count = seen.get(base) ?? 0
		seen.set(base, count + 1)
		out.add(count ? `${base}-${count}` : base)
	}
	return out
}

const withoutFences = (markdown: string) => markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '')

/** Fenced code blocks and inline code are not links. */
const withoutCode = (markdown: string) => withoutFences(markdown).replace(/`[^`\n]*`/g, '')

/** Targets of inline links and images, and of reference definitions. */
function linkTargets(markdown: string): string[] {
	const text = withoutCode(markdown)
	const targets: string[] = []
	for (const m of text.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) targets.push(m[1] as string)
	for (const m of text.matchAll(/^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)) targets.push(m[1] as string)
	return targets
}

/** What is wrong with the links of one page (empty when nothing is). */
function linkProblems(file: string, markdown: string, root = ROOT): string[] {
	const problems: string[] = []
	const name = relative(root, file)
	if (/\.\.\/shared\b|\/work\//.test(markdown)) problems.push(`${name}: names a place outside the repository (../shared or /work/)`)
	for (const target of linkTargets(markdown)) {
		if (/^(https?:|mailto:)/i.test(target)) continue
		if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('/')) {
			problems.push(`${name}: ${target} is not a relative link into the repository`)
			continue
		}
		const [pathPart = '', anchor] = target.split('#', 2)
		if (!pathPart) {
			if (anchor && !anchors(markdown).has(anchor)) problems.push(`${name}: ${target} names no heading of this page`)
			continue
		}
		const path = resolve(dirname(file), decodeURIComponent(pathPart))
		const inside = relative(root, path)
		if (inside.startsWith('..') || resolve(root, inside) !== path) {
			problems.push(`${name}: ${target} leaves the repository`)
			continue
		}
		if (!existsSync(path)) {
			problems.push(`${name}: ${target} does not exist`)
			continue
		}
		if (anchor && path.endsWith('.md') && statSync(path).isFile() && !anchors(readFileSync(path, 'utf8')).has(anchor)) {
			problems.push(`${name}: ${target} names no heading of ${relative(root, path)}`)
		}
	}
	return problems
}

function pages(): string[] {
	const out = [join(ROOT, 'README.md')]
	const walk = (dir: string) => {
		for (const entry of readdirSync(dir, { withFileTypes: true })) {
			const path = join(dir, entry.name)
			if (entry.isDirectory()) walk(path)
			else if (entry.name.endsWith('.md')) out.push(path)
		}
	}
	walk(join(ROOT, 'docs'))
	return out
}

describe('documentation links', () => {
	test('every relative link in README.md and docs/ resolves inside the repository', () => {
		const files = pages()
		expect(files.length).toBeGreaterThan(10)
		const problems = files.flatMap((file) => linkProblems(file, readFileSync(file, 'utf8')))
		expect(problems).toEqual([])
		// The checker did see links: the README links to every docs page.
		expect(linkTargets(readFileSync(join(ROOT, 'README.md'), 'utf8')).length).toBeGreaterThan(20)
	})

	test('a dead link, a link out of the repository, an absolute path and a missing anchor are each found', () => {
		const page = join(ROOT, 'docs', 'example.md')
		const problems = linkProblems(
			page,
			[
				'# Example',
				'[ok](design.md#principles) [self](#example) [web](https://example.com) [file](../package.json) [gone](#nowhere)',
				'[dead](nothing-here.md)',
				'[out](../../shared/design.md)',
				'[abs](/etc/passwd)',
				'[anchor](design.md#no-such-heading)',
				'[ref]: ../../outside.md',
				'`[code](not-a-link.md)`',
			].join('\n'),
		)
		expect(problems).toEqual([
			'docs/example.md: names a place outside the repository (../shared or /work/)',
			'docs/example.md: #nowhere names no heading of this page',
			'docs/example.md: nothing-here.md does not exist',
			'docs/example.md: ../../shared/design.md leaves the repository',
			'docs/example.md: /etc/passwd is not a relative link into the repository',
			'docs/example.md: design.md#no-such-heading names no heading of docs/design.md',
			'docs/example.md: ../../outside.md leaves the repository',
		])
	})

	test('anchors are made the way GitHub makes them', () => {
		const made = anchors(
			'# Storage\n## What a 2xx means, and what a crash can lose\n## Gemini bodies on `/v1/chat/completions`\n## Tests\n## Tests\n```\n# not a heading\n```',
		)
		expect([...made]).toEqual(['storage', 'what-a-2xx-means-and-what-a-crash-can-lose', 'gemini-bodies-on-v1chatcompletions', 'tests', 'tests-1'])
	})
})
