// vue-i18n set-up: zh-CN by default, English second; the choice is remembered in localStorage.
// Only the chosen language's catalogue is downloaded, and only the part the page needs: each
// catalogue is built in two parts (scripts/i18n-parts.ts), the keys the borrower app names and the
// rest, which the staff console adds (router guard: loadStaffMessages). The borrower part of Chinese
// (the default, and the fallback while another loads) is in the main bundle; every other part is
// its own chunk, fetched when first needed.
import { createI18n } from 'vue-i18n'
import zhCN from './zh-CN.borrower'
import type { Messages } from './messages'
import type { Locale } from './format'

export type { Locale } from './format'
export const LOCALES: readonly Locale[] = ['zh-CN', 'en']
const STORAGE_KEY = 'mc.locale'

type Part = 'borrower' | 'staff'
type Loader = () => Promise<{ default: Messages }>

/** The parts that are not in the main bundle, each its own chunk. */
const LOADERS: Record<Locale, Partial<Record<Part, Loader>>> = {
  'zh-CN': { staff: () => import('./zh-CN.staff') },
  en: { borrower: () => import('./en.borrower'), staff: () => import('./en.staff') },
}
const loaded = new Set<string>(['zh-CN:borrower'])
const loading = new Map<string, Promise<void>>()
/** Whether the staff part is wanted (the console has been opened, or a key was missing). */
let staffWanted = false

function savedLocale(): Locale {
  const saved = typeof localStorage !== 'undefined' ? localStorage.getItem(STORAGE_KEY) : null
  return saved === 'en' || saved === 'zh-CN' ? saved : 'zh-CN'
}

export const i18n = createI18n({
  legacy: false,
  locale: 'zh-CN',
  fallbackLocale: false,
  missingWarn: true,
  fallbackWarn: false,
  messages: { 'zh-CN': zhCN } as Record<Locale, Messages>,
  // A key the borrower part lacks (the build's scan missed it): fetch the rest, which shows it.
  missing: () => {
    if (!staffWanted) void loadStaffMessages().catch(() => undefined)
  },
})

export function currentLocale(): Locale {
  return i18n.global.locale.value as Locale
}

function loadPart(locale: Locale, part: Part): Promise<void> {
  const id = `${locale}:${part}`
  if (loaded.has(id)) return Promise.resolve()
  let pending = loading.get(id)
  if (!pending) {
    const load = LOADERS[locale][part] as Loader
    pending = load()
      .then(({ default: messages }) => {
        i18n.global.mergeLocaleMessage(locale, messages)
        loaded.add(id)
      })
      .finally(() => loading.delete(id))
    loading.set(id, pending)
  }
  return pending
}

/** Download the catalogue of `locale` (the parts wanted so far) unless it is already there. */
export async function loadLocale(locale: Locale): Promise<void> {
  await Promise.all([loadPart(locale, 'borrower'), ...(staffWanted ? [loadPart(locale, 'staff')] : [])])
}

/** The staff console's strings in the current language (and in any language chosen from now on). */
export async function loadStaffMessages(): Promise<void> {
  staffWanted = true
  await loadLocale(currentLocale())
}

/**
 * Remember the choice of `locale` at once (a reload while its catalogue downloads keeps it), then
 * show the app in it once the catalogue is there.
 */
export async function setLocale(locale: Locale): Promise<void> {
  localStorage.setItem(STORAGE_KEY, locale)
  await loadLocale(locale)
  i18n.global.locale.value = locale
  document.documentElement.lang = locale
}

/** At start-up: the language chosen last time (Chinese if its catalogue cannot be had, e.g. offline). */
export async function restoreLocale(): Promise<void> {
  const saved = savedLocale()
  if (saved === 'zh-CN') return
  try {
    await loadLocale(saved)
    i18n.global.locale.value = saved
  } catch {
    // Stay in Chinese; the switch offers English again.
  }
}
