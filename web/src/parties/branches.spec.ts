import { describe, expect, it } from 'vitest'
import { assignmentKey, branchLabel } from './branches'

describe('branch names', () => {
  it('shows the English name in English and falls back to the Chinese name without one', () => {
    expect(branchLabel({ name: '城关支行', name_en: 'Chengguan Branch' }, 'en')).toBe('Chengguan Branch')
    expect(branchLabel({ name: '城关支行', name_en: 'Chengguan Branch' }, 'zh-CN')).toBe('城关支行')
    expect(branchLabel({ name: '城东支行', name_en: null }, 'en')).toBe('城东支行')
    expect(branchLabel({ name: '城东支行', name_en: '' }, 'en')).toBe('城东支行')
    expect(branchLabel(undefined, 'en')).toBe('')
  })

  it('names how a borrower came to their branch, and the unassigned', () => {
    expect(assignmentKey('region')).toBe('assignment.region')
    expect(assignmentKey('staff')).toBe('assignment.staff')
    expect(assignmentKey(null)).toBe('assignment.none')
    expect(assignmentKey('something_new')).toBe('assignment.none')
  })
})
