// Helpers of the risk screens: parameter values as the editor shows them, and rule rows.
import type { components } from '@/api/client'

export type RuleSet = components['schemas']['RuleSetRead']
export type Version = components['schemas']['VersionRead']
export type Rule = components['schemas']['RuleRead']
export type PreviewRow = components['schemas']['PreviewRow']
export type Assessment = components['schemas']['AssessmentRead']
export type ParameterValue = boolean | number | string | string[]

export const STAGES = ['completeness', 'eligibility', 'identity', 'bureau', 'knockout', 'fraud', 'score', 'decision'] as const
export const OUTCOMES = ['fail', 'flag', 'missing'] as const

/** How a parameter is edited: a switch, a whole number, a list (comma separated) or text. */
export function parameterKind(value: unknown): 'bool' | 'int' | 'list' | 'text' {
  if (typeof value === 'boolean') return 'bool'
  if (typeof value === 'number') return 'int'
  if (Array.isArray(value)) return 'list'
  return 'text'
}

/** A list parameter from what was typed: "A, B ,C" → ["A", "B", "C"] (empty items dropped). */
export function parseList(text: string): string[] {
  return text
    .split(/[,，\s]+/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
}

/** The field error of one rule's field, as the API names it: rules[3].expression. */
export function ruleField(index: number, field: string): string {
  return `rules[${index}].${field}`
}

/** Whether a preview row's decision moved between the version in force and the draft. */
export function changed(row: Pick<PreviewRow, 'current' | 'draft'>): boolean {
  return row.current.decision !== row.draft.decision || row.current.grade !== row.draft.grade
}
