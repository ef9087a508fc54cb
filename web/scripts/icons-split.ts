// Element Plus's icons, one module per icon, so that each page's chunk carries only the icons it shows.
//
// @element-plus/icons-vue ships all its icons as one ES module (dist/index.js, one section per icon,
// `// src/components/<name>.vue`, and one export list at the end). Tree-shaking keeps the icons the
// app uses, but as one module they all land in one chunk, which every page fetched because the
// borrower shell shows two of them: ~40 icons (5.4 KB compressed) on every first load, most of them
// the staff console's. This plugin serves that package as a barrel that re-exports every icon from a
// module of its own (the section of dist/index.js that defines it), so the bundler puts each icon
// beside the code that uses it. Element Plus's own components import from the same package and are
// split the same way. The icons themselves are unchanged (the package's own code, cut at its seams);
// when a later version of the package no longer has this layout the plugin fails the build.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import type { Plugin } from 'vite'

const PACKAGE = '@element-plus/icons-vue'
const BARREL = '\0mc-icons'
const ICON = '\0mc-icon:'

type Icons = { barrel: string; modules: Map<string, string> }

/** The package's index.js cut into one module per icon, and a barrel re-exporting them by name. */
export function splitIcons(source: string): Icons {
  const exportAt = source.lastIndexOf('\nexport {')
  if (exportAt < 0) throw new Error(`${PACKAGE}: no export list at the end of dist/index.js`)
  // `add_location_default as AddLocation,` → local name → exported name.
  const exported = new Map<string, string>()
  for (const m of source.slice(exportAt).matchAll(/(\w+) as (\w+)/g)) exported.set(m[1], m[2])
  const modules = new Map<string, string>()
  const lines: string[] = []
  for (const section of source.slice(0, exportAt).split('\n// src/components/').slice(1)) {
    const local = /\b(\w+_default) = _sfc_main\d*;/.exec(section)?.[1]
    const name = local && exported.get(local)
    if (!local || !name) throw new Error(`${PACKAGE}: an icon section without its exported name (${section.slice(0, 40)})`)
    modules.set(name, `${section.slice(section.indexOf('\n') + 1)}\nexport default ${local};\n`)
    lines.push(`export { default as ${name} } from '${ICON}${name}'`)
  }
  if (modules.size !== exported.size) throw new Error(`${PACKAGE}: ${exported.size} exports but ${modules.size} icons found`)
  return { barrel: `${lines.join('\n')}\n`, modules }
}

export function iconsSplit(): Plugin {
  let icons: Icons | null = null
  const load = (): Icons => {
    if (!icons) {
      const path = createRequire(import.meta.url).resolve(PACKAGE)
      icons = splitIcons(readFileSync(path.replace(/index\.cjs$/, 'index.js'), 'utf8'))
    }
    return icons
  }
  return {
    name: 'mc-icons-split',
    enforce: 'pre',
    apply: 'build',
    resolveId(id) {
      if (id === PACKAGE) return BARREL
      if (id.startsWith(ICON)) return id
      return null
    },
    load(id) {
      if (id === BARREL) return { code: load().barrel, moduleSideEffects: false }
      if (id.startsWith(ICON)) {
        const code = load().modules.get(id.slice(ICON.length))
        if (code === undefined) throw new Error(`${PACKAGE}: no icon ${id.slice(ICON.length)}`)
        return { code, moduleSideEffects: false }
      }
      return null
    },
  }
}
