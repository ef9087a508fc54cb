// Which built files the service worker downloads ahead (precaches): the borrower app's shell and
// pages, in both languages. The staff console (desktop, office network) and the calculator's chart
// (ECharts, the largest file, drawn by few visits) are left out: a borrower's phone downloads only
// what a borrower can open. Files left out are still kept once fetched (the runtime cache).
//
// The borrower pages are the route components of the borrower app, the first block of `routes` in
// src/router/index.ts (everything before the staff sign-in route); every other view or shell is a
// staff page. The plugin walks the bundle from the entry through static and lazy imports, stopping
// at staff pages and the chart, and hands the list to workbox's manifestTransforms.
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import type { Plugin } from 'vite'

type ManifestEntry = { url: string; revision: string | null; size: number }
type Chunk = {
  type: 'chunk'
  fileName: string
  isEntry: boolean
  facadeModuleId: string | null
  imports: string[]
  dynamicImports: string[]
  viteMetadata?: { importedCss: Set<string>; importedAssets: Set<string> }
}

const PAGE = /\/src\/(.+\/)?(views|shells)\/[^/]+\.vue$/
const LEFT_OUT = /\/src\/lending\/components\/ScheduleChart\.vue$/

/** The source files of the borrower app's pages (absolute paths). */
export function borrowerPages(webRoot: string): Set<string> {
  const router = readFileSync(resolve(webRoot, 'src/router/index.ts'), 'utf8')
  const start = router.indexOf('const routes')
  const end = router.indexOf("path: '/staff/login'", start)
  if (start < 0 || end < 0) throw new Error('offline-shell: the borrower routes were not found in src/router/index.ts')
  const pages = [...router.slice(start, end).matchAll(/import\('@\/([^']+)'\)/g)].map((m) => resolve(webRoot, 'src', m[1]))
  if (pages.length < 5) throw new Error(`offline-shell: only ${pages.length} borrower pages found`)
  return new Set(pages)
}

/** The plugin and the transform for workbox that keeps only the offline shell's files. */
export function offlineShell(webRoot: string) {
  const keep = new Set<string>()
  const plugin: Plugin = {
    name: 'mc-offline-shell',
    apply: 'build',
    generateBundle(_options, bundle) {
      const pages = borrowerPages(webRoot)
      const chunks = Object.values(bundle).filter((c): c is never => c.type === 'chunk') as unknown as Chunk[]
      const byName = new Map(chunks.map((c) => [c.fileName, c]))
      const skip = (c: Chunk) => {
        const id = c.facadeModuleId?.split('?')[0] ?? ''
        return LEFT_OUT.test(id) || (PAGE.test(id) && !pages.has(id))
      }
      const queue = chunks.filter((c) => c.isEntry)
      keep.clear()
      while (queue.length) {
        const c = queue.pop() as Chunk
        if (keep.has(c.fileName)) continue
        keep.add(c.fileName)
        c.viteMetadata?.importedCss.forEach((f) => keep.add(f))
        c.viteMetadata?.importedAssets.forEach((f) => keep.add(f))
        for (const name of [...c.imports, ...c.dynamicImports]) {
          const next = byName.get(name)
          if (next && !keep.has(name) && (c.imports.includes(name) || !skip(next))) queue.push(next)
        }
      }
    },
  }
  /** workbox manifestTransforms: the built files of the shell, plus everything outside assets/. */
  const transform = async (entries: ManifestEntry[]) => ({
    manifest: entries.filter((e) => !e.url.startsWith('assets/') || keep.has(e.url)),
    warnings: [] as string[],
  })
  return { plugin, transform }
}
