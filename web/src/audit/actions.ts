// The audit log's action codes ("profile_change.rejected"): the known ones come from the catalogue's
// auditAction section (so each has a name in both languages), grouped by the record they concern.
import en from '@/i18n/en'
import recorded from './recorded-actions.json'

export interface ActionGroup {
  /** The code's first part ("profile_change"): the API's filter matches codes that start with it. */
  group: string
  /** The full codes of the group ("profile_change.approved", ...). */
  actions: string[]
}

/** Every action the back end records (scripts/audit_actions.py reads them from its source), by
 * group, groups in the catalogue's order. Taken from that list and not from the catalogue's
 * structure: in the built app vue-i18n's messages are compiled, so a name is not a string there. */
export const ACTION_GROUPS: ActionGroup[] = (() => {
  const order = Object.keys(en.auditAction)
  const groups = new Map<string, string[]>()
  for (const code of [...recorded].sort()) {
    const group = code.split('.')[0]
    groups.set(group, [...(groups.get(group) ?? []), code])
  }
  const rank = (g: string) => (order.includes(g) ? order.indexOf(g) : order.length)
  return [...groups.entries()].sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b)).map(([group, actions]) => ({ group, actions }))
})()

export const KNOWN_ACTIONS: ReadonlySet<string> = new Set(recorded)

/** The record types the API files audit records under (each named in the catalogue's auditEntity). */
export const ENTITY_TYPES = ['borrower', 'branch', 'institution', 'role', 'staff', 'user'] as const

/** The catalogue key of an action's name, or null for a code the catalogue does not name. */
export function actionKey(code: string): string | null {
  return KNOWN_ACTIONS.has(code) ? `auditAction.${code}` : null
}
