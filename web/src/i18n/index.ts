// vue-i18n set-up: zh-CN by default, English second; the choice is remembered in localStorage.
// Only the chosen language's catalogue is downloaded: Chinese (the default, and the fallback while
// another loads) is in the main bundle, English is its own chunk fetched when first chosen.
import { createI18n } from 'vue-i18n'
import zhCN from './zh-CN'
import type { Messages } from './messages'
import type { Locale } from './format'

export type { Locale } from './format'
export const LOCALES: readonly Locale[] = ['zh-CN', 'en']
const STORAGE_KEY = 'mc.locale'

/** The catalogues that are not in the main bundle, each its own chunk. */
const LOADERS: Record<Exclude<Locale, 'zh-CN'>, () => Promise<{ default: Messages }>> = {
  en: () => import('./en'),
}

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
})

export function currentLocale(): Locale {
  return i18n.global.locale.value as Locale
}

/** Download the catalogue of `locale` unless it is already there. */
export async function loadLocale(locale: Locale): Promise<void> {
  if (locale === 'zh-CN' || i18n.global.availableLocales.includes(locale)) return
  const { default: messages } = await LOADERS[locale]()
  i18n.global.setLocaleMessage(locale, messages)
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
