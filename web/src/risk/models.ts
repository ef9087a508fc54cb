// The model registry in the web app: the API's shapes, how a PSI reads, and which acts a user may take.
import type { components } from '@/api/client'

export type ModelRead = components['schemas']['ModelRead']
export type VersionSummary = components['schemas']['ModelVersionSummary']
export type VersionDetail = components['schemas']['ModelVersionDetail']
export type Promotion = components['schemas']['ModelPromotionRead']
export type Comparison = components['schemas']['ModelComparisonRead']
export type Drift = components['schemas']['ModelDriftRead']
export type ModelScore = components['schemas']['ModelScoreRead']

/** The headline metrics in the order shown; lower is better only for Brier and PSI. */
export const METRICS = ['auc', 'ks', 'gini', 'brier', 'psi'] as const

/** A PSI's reading: under 0.1 stable, 0.1–0.25 watch, above 0.25 shifted (the industry's usual cuts). */
export function psiLevel(psi: number | null | undefined): 'stable' | 'watch' | 'shifted' | null {
  if (psi === null || psi === undefined) return null
  return psi < 0.1 ? 'stable' : psi <= 0.25 ? 'watch' : 'shifted'
}

/** A metric for display: three decimals, or a dash when the report lacks it. */
export function metric(value: number | null | undefined): string {
  return value === null || value === undefined ? '—' : value.toFixed(3)
}

/** The roles a version may be proposed for in its status (a retired version never returns). */
export function proposable(status: VersionSummary['status']): ('champion' | 'challenger')[] {
  if (status === 'draft') return ['champion', 'challenger']
  if (status === 'challenger') return ['champion']
  return []
}

/** Whether the caller may decide a proposal: holds the approval permission and did not propose it (maker–checker). */
export function mayDecide(p: Promotion, canApprove: boolean): boolean {
  return canApprove && p.status === 'pending' && !p.mine
}

/** A reason's words in the current language. */
export function reasonWords(r: ModelScore['reasons'][number], locale: string): string {
  return locale === 'zh-CN' ? r['zh-CN'] : r.en
}

/** The ROC points of a report, if it has them as {fpr: [...], tpr: [...]}. */
export function rocOf(report: Record<string, unknown> | null | undefined): [number, number][] {
  const roc = report?.roc as { fpr?: unknown; tpr?: unknown } | undefined
  if (!roc || !Array.isArray(roc.fpr) || !Array.isArray(roc.tpr) || roc.fpr.length !== roc.tpr.length) return []
  return roc.fpr.map((x, i) => [Number(x), Number((roc.tpr as unknown[])[i])] as [number, number]).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y))
}

/** The calibration rows of a report: predicted beside observed per bin. */
export function calibrationOf(report: Record<string, unknown> | null | undefined): { predicted: number; observed: number }[] {
  const rows = report?.calibration
  if (!Array.isArray(rows)) return []
  return rows
    .map((r) => ({ predicted: Number((r as Record<string, unknown>).mean_pd), observed: Number((r as Record<string, unknown>).observed) }))
    .filter((r) => Number.isFinite(r.predicted) && Number.isFinite(r.observed))
}

/** A score band as text: "< 540", "540–600", "≥ 720". */
export function bandLabel(low: number | null | undefined, high: number | null | undefined): string {
  if (low === null || low === undefined) return `< ${high}`
  if (high === null || high === undefined) return `≥ ${low}`
  return `${low}–${high}`
}
