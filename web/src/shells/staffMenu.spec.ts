import { describe, expect, it } from 'vitest'
import { menuFor } from './staffMenu'

const names = (permissions: string[]) => menuFor(new Set(permissions)).flatMap((g) => g.items.map((i) => i.name))

describe('the staff menu', () => {
  it('lists the holiday calendar for whoever may read it, beside the calculator', () => {
    expect(names(['calendar.read'])).toEqual(['calculator', 'calendar'])
    expect(names([])).toEqual(['calculator'])
    const tools = menuFor(new Set(['calendar.read'])).find((g) => g.key === 'nav.groupTools')!
    expect(tools.items.find((i) => i.name === 'calendar')).toMatchObject({ path: '/staff/calendar', title: 'nav.calendar' })
  })
})
