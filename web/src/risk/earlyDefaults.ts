// The early default table's shapes (GET /api/v1/risk/early-defaults) and how the page shows a rate.
import type { components } from '@/api/schema'

export type EarlyDefaults = components['schemas']['EarlyDefaultsRead']
export type EarlyDefaultCell = components['schemas']['EarlyDefaultCell']
export type Measure = 'dpd30_3m' | 'dpd90_6m'
export const MEASURES: Measure[] = ['dpd30_3m', 'dpd90_6m']

/** "12.5%" (one decimal), or "—" when no loan is counted yet. */
export function percent(rate: number | null | undefined): string {
  return rate === null || rate === undefined ? '—' : `${(Math.round(rate * 1000) / 10).toFixed(1)}%`
}

/** A band's name: "B 级" / "Grade B"; "-" (the decision gave no grade) and null (every band) in words. */
export function bandName(t: (key: string, named?: Record<string, unknown>) => string, band: string | null): string {
  if (band === null) return t('earlyDefaults.allBands')
  return band === '-' ? t('earlyDefaults.noGrade') : t('earlyDefaults.band', { band })
}
