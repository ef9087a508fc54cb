// The catalogues in two parts, split at build time: what the borrower app names, and the rest (the
// staff console's strings). A borrower's phone downloads only the first part; the staff console
// (router guard, src/i18n/index.ts) adds the second. Each key is still written once, in zh-CN.ts and
// en.ts; the parts are made from them.
//
// The borrower app is the source reachable from src/main.ts through static and lazy imports, with the
// router's pages limited to the borrower app's (borrowerPages, the same list the offline shell uses).
// A key belongs to the borrower part when such a file names it, or a prefix of it, in a string: 'a.b.c'
// or `a.b.${x}` (then all of a.b), the way the catalogue test reads the source. A key the scan misses
// still shows: the first lookup of a missing key loads the other part (src/i18n/index.ts).
//
// src/i18n/<locale>.borrower.ts and <locale>.staff.ts re-export the whole catalogue (what tests and the
// type check see); in the build this plugin's `load` replaces them with the part, which the vue-i18n
// plugin then precompiles like any catalogue.
import { existsSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import type { Plugin } from 'vite'
import { transformWithOxc } from 'vite'
import { borrowerPages } from './offline-shell'

type Tree = { [key: string]: string | Tree }

const PART = /[\\/]src[\\/]i18n[\\/](zh-CN|en)\.(borrower|staff)\.ts$/
const CATALOGUE = /[\\/]src[\\/]i18n[\\/](zh-CN|en)(\.\w+)?\.ts$/

function resolveImport(src: string, from: string, spec: string): string | null {
  let base: string
  if (spec.startsWith('@/')) base = join(src, spec.slice(2))
  else if (spec.startsWith('.')) base = resolve(dirname(from), spec)
  else return null
  for (const candidate of [base, `${base}.ts`, `${base}.vue`, join(base, 'index.ts')]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate
  }
  return null
}

/** The source files of the borrower app (absolute paths), catalogues and specs left out. */
export function borrowerSources(webRoot: string): string[] {
  const src = resolve(webRoot, 'src')
  const router = resolve(src, 'router/index.ts')
  const seen = new Set<string>()
  const stack = [resolve(src, 'main.ts'), ...borrowerPages(webRoot)]
  while (stack.length) {
    const file = stack.pop() as string
    if (seen.has(file) || CATALOGUE.test(file)) continue
    seen.add(file)
    const text = readFileSync(file, 'utf8')
    // The router's lazy imports are every page of both apps: only its static imports are followed
    // (its borrower pages are roots already).
    const pattern = file === router ? /\bfrom\s*'([^']+)'/g : /(?:\bfrom|\bimport)\s*\(?\s*'([^']+)'/g
    for (const m of text.matchAll(pattern)) {
      const target = resolveImport(src, file, m[1])
      if (target) stack.push(target)
    }
  }
  return [...seen]
}

/** The router's source without the staff console's routes (their titles are the console's keys). */
function borrowerRoutes(text: string): string {
  const staff = text.indexOf('export const staffPages')
  const start = text.indexOf('const routes', staff)
  const end = text.indexOf("path: '/staff/login'", start)
  if (staff < 0 || start < 0 || end < 0) throw new Error('i18n-parts: the routes were not found in src/router/index.ts')
  return text.slice(0, staff) + text.slice(start, end)
}

/** The message keys and key prefixes the given files name ('a.b' or `a.b.${...}` gives 'a.b'). */
export function namedKeys(files: string[]): Set<string> {
  const keys = new Set<string>()
  for (const file of files) {
    const source = readFileSync(file, 'utf8')
    const text = /[\\/]src[\\/]router[\\/]index\.ts$/.test(file) ? borrowerRoutes(source) : source
    for (const m of text.matchAll(/['`"]([a-zA-Z]\w*(?:\.[\w-]+)+)(?=\.\$\{|\.?['`"])/g)) keys.add(m[1])
    // A whole namespace: `ns.${...}` or 'ns.' + ...
    for (const m of text.matchAll(/['`"]([a-zA-Z]\w*)(?=\.\$\{|\.['`"])/g)) keys.add(m[1])
  }
  return keys
}

/** The part of `messages` under the named keys (`borrower`) or the rest (`staff`). */
export function catalogPart(messages: Tree, named: Set<string>, part: 'borrower' | 'staff'): Tree {
  const pick = (tree: Tree, prefix: string): Tree | undefined => {
    const out: Tree = {}
    for (const [k, v] of Object.entries(tree)) {
      const key = prefix ? `${prefix}.${k}` : k
      if (named.has(key)) {
        if (part === 'borrower') out[k] = v
        continue
      }
      if (typeof v === 'string') {
        if (part === 'staff') out[k] = v
        continue
      }
      const sub = pick(v, key)
      if (sub) out[k] = sub
    }
    return Object.keys(out).length ? out : undefined
  }
  return pick(messages, '') ?? {}
}

/** The default export of a catalogue file (TypeScript, a plain object literal). */
export async function readCatalogue(file: string): Promise<Tree> {
  const { code } = await transformWithOxc(readFileSync(file, 'utf8'), file, { lang: 'ts' })
  const mod = (await import(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`)) as { default: Tree }
  return mod.default
}

/** The Vite plugin: serves src/i18n/<locale>.<part>.ts as that part of <locale>.ts. */
export function catalogueParts(webRoot: string): Plugin {
  let named: Set<string> | null = null
  return {
    name: 'mc-i18n-parts',
    enforce: 'pre',
    apply: 'build',
    buildStart() {
      named = null
    },
    async load(id) {
      const m = PART.exec(id.split('?')[0])
      if (!m) return null
      named ??= namedKeys(borrowerSources(webRoot))
      const whole = resolve(webRoot, 'src/i18n', `${m[1]}.ts`)
      this.addWatchFile(whole)
      const messages = catalogPart(await readCatalogue(whole), named, m[2] as 'borrower' | 'staff')
      return `export default ${JSON.stringify(messages)}\n`
    },
  }
}
