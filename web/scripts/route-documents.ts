// The served document names the opened page's code (issue 20). index.html names only the entry and
// what it imports; the page's own chunks used to be asked for once the entry had run (`preloadRoute`
// in main.ts), one round trip and a module run after vendor had arrived. The build knows which
// chunks each route needs and the server knows the address asked, so the build writes, for each
// borrower page (and the staff sign-in), a copy of index.html with a `<link rel="modulepreload">`
// for each of the page's chunks and a `<link rel="preload" as="style">` for its stylesheets, plus
// `pages/routes.json`: the address pattern of each route and its document. api/static.py serves
// the first document whose pattern matches the address (index.html when none does: an unknown
// address, the staff console, a build without the list).
//
// The routes are read from src/router/index.ts like scripts/offline-shell.ts reads them: the
// children of the borrower block (everything before the staff sign-in route) and the staff sign-in.
// A route's pattern is vue-router's own matching for its path (case-insensitive, an optional
// trailing slash, `:name(regex)` and `:name` parameters); a route that repeats or makes optional a
// parameter (the 404 catch-all) gets no document. A signed-out visitor opening a signed-in page
// fetches that page's code for nothing (the sign-in page opens instead): extra preloads only cost
// bytes; the service worker serves the plain index.html for every address, never one of these.
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { brotliCompressSync, gzipSync, constants } from 'node:zlib'
import type { Plugin } from 'vite'

export type RouteEntry = { name: string; path: string; pattern: string; components: string[] }
type Chunk = {
  type: 'chunk'
  fileName: string
  isEntry: boolean
  facadeModuleId: string | null
  moduleIds: string[]
  imports: string[]
  viteMetadata?: { importedCss: Set<string> }
}

/** The regex (source, to be used case-insensitively) vue-router matches `path` with, or null when it repeats or makes optional a parameter. */
export function routePattern(path: string): string | null {
  let out = ''
  let i = 0
  while (i < path.length) {
    if (path[i] !== ':') {
      out += path[i].replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
      i += 1
      continue
    }
    const name = /^:(\w+)/.exec(path.slice(i))
    if (!name) return null
    i += name[0].length
    let regex = '[^/]+?'
    if (path[i] === '(') {
      let depth = 0
      let j = i
      for (; j < path.length; j += 1) {
        if (path[j] === '\\') j += 1
        else if (path[j] === '(') depth += 1
        else if (path[j] === ')' && --depth === 0) break
      }
      if (j >= path.length) return null
      regex = path.slice(i + 1, j)
      i = j + 1
    }
    if ('*+?'.includes(path[i] ?? '.')) return null
    out += `(?:${regex})`
  }
  return `^${out.replace(/\/$/, '')}/?$`
}

/** A single-quoted string literal's value. */
const literal = (source: string) => source.replace(/\\(.)/g, '$1')

/** The borrower app's routes and the staff sign-in, each with its address pattern and its components (absolute paths, shell first). */
export function documentRoutes(webRoot: string): RouteEntry[] {
  const router = readFileSync(resolve(webRoot, 'src/router/index.ts'), 'utf8')
  const start = router.indexOf('const routes')
  const staffLogin = router.indexOf("path: '/staff/login'", start)
  if (start < 0 || staffLogin < 0) throw new Error('route-documents: the borrower routes were not found in src/router/index.ts')
  const source = (file: string) => resolve(webRoot, 'src', file)
  const shell = /component: \(\) => import\('@\/(shells\/BorrowerShell\.vue)'\)/.exec(router.slice(start, staffLogin))
  if (!shell) throw new Error('route-documents: the borrower shell was not found')
  const line = /\{ path: '((?:[^'\\]|\\.)*)', name: '([^']+)', component: \(\) => import\('@\/([^']+)'\)/g
  const routes: RouteEntry[] = []
  for (const m of router.slice(start, staffLogin).matchAll(line)) {
    const path = '/' + literal(m[1])
    const pattern = routePattern(path)
    if (pattern) routes.push({ name: m[2], path, pattern, components: [source(shell[1]), source(m[3])] })
  }
  const staff = new RegExp(line.source).exec(router.slice(staffLogin - 2))
  if (staff) routes.push({ name: staff[2], path: staff[1], pattern: routePattern(staff[1]) as string, components: [source(staff[3])] })
  if (routes.length < 10) throw new Error(`route-documents: only ${routes.length} routes found`)
  return routes
}

/** The route (of `routes`) whose pattern matches the address `path`, as the server picks it. */
export function documentFor(routes: Pick<RouteEntry, 'name' | 'pattern'>[], path: string) {
  return routes.find((r) => new RegExp(r.pattern, 'i').test(path))
}

/** index.html with the given scripts preloaded as modules and stylesheets as styles (before `</head>`). */
export function withPreloads(html: string, scripts: string[], styles: string[]): string {
  const links = [
    ...scripts.map((f) => `<link rel="modulepreload" crossorigin href="/${f}">`),
    ...styles.map((f) => `<link rel="preload" as="style" crossorigin href="/${f}">`),
  ]
  if (!html.includes('</head>')) throw new Error('route-documents: index.html has no </head>')
  return html.replace('</head>', `${links.join('\n    ')}\n  </head>`)
}

/** The Vite plugin: pages/<route>.html (with .br and .gz copies) and pages/routes.json. */
export function routeDocuments(webRoot: string): Plugin {
  return {
    name: 'mc-route-documents',
    apply: 'build',
    enforce: 'post',
    generateBundle: {
      order: 'post',
      handler(_options, bundle) {
        const index = bundle['index.html']
        if (!index || index.type !== 'asset') this.error('route-documents: no index.html in the bundle')
        const html = String((index as { source: string | Uint8Array }).source instanceof Uint8Array
          ? new TextDecoder().decode((index as { source: Uint8Array }).source) : (index as { source: string }).source)
        const chunks = Object.values(bundle).filter((c) => c.type === 'chunk') as unknown as Chunk[]
        const byName = new Map(chunks.map((c) => [c.fileName, c]))
        /** A chunk and what it imports statically, with their stylesheets. */
        const closure = (roots: Chunk[]) => {
          const scripts = new Set<string>()
          const styles = new Set<string>()
          const queue = [...roots]
          while (queue.length) {
            const c = queue.shift() as Chunk
            if (scripts.has(c.fileName)) continue
            scripts.add(c.fileName)
            c.viteMetadata?.importedCss.forEach((f) => styles.add(f))
            for (const name of c.imports) if (byName.has(name)) queue.push(byName.get(name) as Chunk)
          }
          return { scripts, styles }
        }
        // What index.html names already: the entry and its static imports.
        const entry = closure(chunks.filter((c) => c.isEntry))
        const chunkOf = (id: string) =>
          chunks.find((c) => c.facadeModuleId === id) ?? chunks.find((c) => !c.isEntry && c.moduleIds.includes(id))
        const list: { name: string; pattern: string; document: string }[] = []
        for (const route of documentRoutes(webRoot)) {
          const roots = route.components.map(chunkOf)
          if (roots.some((c) => !c)) this.error(`route-documents: no chunk for a component of route ${route.name}`)
          const page = closure(roots as Chunk[])
          const scripts = [...page.scripts].filter((f) => !entry.scripts.has(f))
          const styles = [...page.styles].filter((f) => !entry.styles.has(f))
          const document = `pages/${route.name}.html`
          const text = withPreloads(html, scripts, styles)
          const bytes = Buffer.from(text)
          this.emitFile({ type: 'asset', fileName: document, source: text })
          this.emitFile({ type: 'asset', fileName: `${document}.br`, source: brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }) })
          this.emitFile({ type: 'asset', fileName: `${document}.gz`, source: gzipSync(bytes, { level: 9 }) })
          list.push({ name: route.name, pattern: route.pattern, document })
        }
        this.emitFile({ type: 'asset', fileName: 'pages/routes.json', source: JSON.stringify({ routes: list }, null, 1) + '\n' })
      },
    },
  }
}
