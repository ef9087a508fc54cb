// Helpers of the anomaly model's page: a score band's label and its share of the sample, percentages.
export interface Band {
  low: number | null
  high: number | null
  count: number
}

/** "0.45–0.50", "< 0.30", "≥ 0.80": a band of anomaly scores. */
export function bandLabel(b: Band): string {
  if (b.low === null) return `< ${(b.high ?? 0).toFixed(2)}`
  if (b.high === null) return `≥ ${b.low.toFixed(2)}`
  return `${b.low.toFixed(2)}–${b.high.toFixed(2)}`
}

/** The band's count over the largest band's (0–1, for the bar's length; 0 when the sample is empty). */
export function bandShare(bands: readonly Band[], b: Band): number {
  const top = Math.max(0, ...bands.map((x) => x.count))
  return top ? b.count / top : 0
}

/** A share as a percentage with one decimal. */
export function percent(share: number): string {
  return `${(share * 100).toFixed(1)}%`
}
