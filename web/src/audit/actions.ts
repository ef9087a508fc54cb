// The audit log's action codes ("profile_change.rejected"): the known ones come from the catalogue's
// auditAction section (so each has a name in both languages), grouped by the record they concern.
import en from '@/i18n/en'

export interface ActionGroup {
  /** The code's first part ("profile_change"): the API's filter matches codes that start with it. */
  group: string
  /** The full codes of the group ("profile_change.approved", ...). */
  actions: string[]
}

/** Every action code the catalogue names, by group, in the catalogue's order. */
export const ACTION_GROUPS: ActionGroup[] = Object.entries(en.auditAction).map(([group, actions]) => ({
  group,
  actions: Object.keys(actions).map((a) => `${group}.${a}`),
}))

export const KNOWN_ACTIONS: ReadonlySet<string> = new Set(ACTION_GROUPS.flatMap((g) => g.actions))

/** The record types the API files audit records under (each named in the catalogue's auditEntity). */
export const ENTITY_TYPES = ['borrower', 'branch', 'institution', 'role', 'staff', 'user'] as const

/** The catalogue key of an action's name, or null for a code the catalogue does not name. */
export function actionKey(code: string): string | null {
  return KNOWN_ACTIONS.has(code) ? `auditAction.${code}` : null
}
