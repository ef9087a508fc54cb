// The audit log's action codes ("profile_change.rejected"): the known ones come from the catalogue's
// auditAction section (so each has a name in both languages), grouped by the record they concern.
import en from '@/i18n/en'

export interface ActionGroup {
  /** The code's first part ("profile_change"): the API's filter matches codes that start with it. */
  group: string
  /** The full codes of the group ("profile_change.approved", ...). */
  actions: string[]
}

type Names = { [key: string]: string | Names }

/** The codes under a catalogue node: its leaves, dotted ("review.approve" under "application"). */
function codes(prefix: string, node: Names): string[] {
  return Object.entries(node).flatMap(([key, value]) => (typeof value === 'string' ? [`${prefix}.${key}`] : codes(`${prefix}.${key}`, value)))
}

/** Every action code the catalogue names, by group, in the catalogue's order. */
export const ACTION_GROUPS: ActionGroup[] = Object.entries(en.auditAction as Names).map(([group, actions]) => ({
  group,
  actions: typeof actions === 'string' ? [] : codes(group, actions),
}))

export const KNOWN_ACTIONS: ReadonlySet<string> = new Set(ACTION_GROUPS.flatMap((g) => g.actions))

/** The record types the API files audit records under (each named in the catalogue's auditEntity). */
export const ENTITY_TYPES = ['borrower', 'branch', 'institution', 'role', 'staff', 'user'] as const

/** The catalogue key of an action's name, or null for a code the catalogue does not name. */
export function actionKey(code: string): string | null {
  return KNOWN_ACTIONS.has(code) ? `auditAction.${code}` : null
}
