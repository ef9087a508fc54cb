// @vitest-environment node
// Both catalogues are complete: the same keys, no empty message, the same placeholders; and every
// key the source code names literally exists.
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import en from './en'
import zhCN from './zh-CN'

function flatten(obj: Record<string, unknown>, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k
    if (v && typeof v === 'object') Object.assign(out, flatten(v as Record<string, unknown>, key))
    else out[key] = String(v)
  }
  return out
}

const flatEn = flatten(en)
const flatZh = flatten(zhCN)
const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort()

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return name === 'test' ? [] : sources(path)
    return /\.(vue|ts)$/.test(name) && !name.endsWith('.spec.ts') && !name.endsWith('.d.ts') ? [path] : []
  })
}

describe('i18n catalogues', () => {
  it('have the same keys in zh-CN and English', () => {
    const missingInEn = Object.keys(flatZh).filter((k) => !(k in flatEn))
    const missingInZh = Object.keys(flatEn).filter((k) => !(k in flatZh))
    expect({ missingInEn, missingInZh }).toEqual({ missingInEn: [], missingInZh: [] })
  })

  it('have no empty message', () => {
    const empty = [...Object.entries(flatEn), ...Object.entries(flatZh)].filter(([, v]) => v.trim() === '').map(([k]) => k)
    expect(empty).toEqual([])
  })

  it('use the same placeholders in both languages', () => {
    const differ = Object.keys(flatEn).filter((k) => placeholders(flatEn[k]).join() !== placeholders(flatZh[k] ?? '').join())
    expect(differ).toEqual([])
  })

  it('contain every key the source code names', () => {
    const root = join(__dirname, '..')
    const used = new Set<string>()
    for (const file of sources(root)) {
      const text = readFileSync(file, 'utf8')
      for (const m of text.matchAll(/\bt\(\s*'([a-zA-Z][\w.-]*)'/g)) used.add(m[1])
      for (const m of text.matchAll(/(?:title|key): '([a-z][\w]*\.[\w.-]+)'/g)) used.add(m[1])
    }
    expect(used.size).toBeGreaterThan(100)
    const missing = [...used].filter((k) => !(k in flatEn) || !(k in flatZh))
    expect(missing).toEqual([])
  })

  it('keep Chinese out of the English catalogue (but for the name of the other language)', () => {
    const chinese = Object.entries(flatEn).filter(([k, v]) => /[\u3400-\u9fff]/.test(v) && k !== 'common.switchLanguage')
    expect(chinese).toEqual([])
  })

  it('use full-width colons in Chinese and half-width ones in English', () => {
    const halfWidthInZh = Object.entries(flatZh).filter(([, v]) => /[\u3400-\u9fff）]\s*:|:\s*[\u3400-\u9fff（]/.test(v))
    const fullWidthInEn = Object.entries(flatEn).filter(([, v]) => v.includes('：'))
    expect({ halfWidthInZh, fullWidthInEn }).toEqual({ halfWidthInZh: [], fullWidthInEn: [] })
    expect(flatZh['common.label']).toBe('{label}：')
    expect(flatEn['common.label']).toBe('{label}: ')
  })

  it('name every repayment method, customer type and outcome the API uses', () => {
    for (const m of ['equal_installment', 'equal_principal', 'interest_monthly_principal_at_maturity', 'interest_quarterly_principal_at_maturity', 'bullet']) {
      expect(flatZh[`repaymentMethod.${m}`]).toBeTruthy()
    }
    for (const c of ['consumer', 'sole_trader', 'small_business', 'farmer']) expect(flatEn[`customerType.${c}`]).toBeTruthy()
  })
})
