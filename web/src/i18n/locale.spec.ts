// The English catalogue is a chunk of its own: loaded when chosen, or at start when chosen last time.
import { describe, expect, it } from 'vitest'
import { currentLocale, i18n, restoreLocale, setLocale } from './index'

describe('language loading', () => {
  it('restores the remembered language with its catalogue, and Chinese otherwise', async () => {
    i18n.global.locale.value = 'zh-CN'
    await restoreLocale()
    expect(currentLocale()).toBe('zh-CN')

    localStorage.setItem('mc.locale', 'en')
    await restoreLocale()
    expect(currentLocale()).toBe('en')
    expect(i18n.global.t('app.name')).toBe('Microcredit')

    await setLocale('zh-CN')
    expect(i18n.global.t('app.name')).toBe('小额信贷')
    expect(localStorage.getItem('mc.locale')).toBe('zh-CN')
  })

  it('remembers a choice before its catalogue has arrived, so a reload meanwhile keeps it', async () => {
    localStorage.setItem('mc.locale', 'zh-CN')
    const switching = setLocale('en')
    expect(localStorage.getItem('mc.locale')).toBe('en')
    await switching
    expect(currentLocale()).toBe('en')
    await setLocale('zh-CN')
  })
})
