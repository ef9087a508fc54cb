import { describe, expect, it } from 'vitest'
import { dayProblem, isWeekend, weekdayOf, yearFrom, yearGrid, type CalendarDay } from './calendar'

const day = (date: string, kind: CalendarDay['kind'], name = '春节'): CalendarDay => ({
  id: 1, day: date, kind, name_zh: name, name_en: null, source: 'manual', created_at: '', updated_at: '', updated_by_user_id: null,
})

describe('calendar dates', () => {
  it('tells weekdays without a time-zone shift', () => {
    expect(weekdayOf('2027-02-11')).toBe(3) // Thursday
    expect(weekdayOf('2025-09-28')).toBe(6) // Sunday
    expect(weekdayOf('2024-02-29')).toBe(3)
    expect([isWeekend('2027-02-13'), isWeekend('2027-02-12')]).toEqual([true, false])
  })

  it('refuses what the API refuses: a make-up working day on a weekday, a year out of range', () => {
    expect(dayProblem('2027-02-09', 'working_day')).toBe('calendar.workingDayWeekday')
    expect(dayProblem('2027-02-13', 'working_day')).toBeNull()
    expect(dayProblem('2027-02-09', 'holiday')).toBeNull()
    expect(dayProblem('2027-02-13', 'holiday')).toBeNull() // a holiday period includes its weekend
    expect(dayProblem('1999-10-01', 'holiday')).toBe('calendar.outOfRange')
    expect(dayProblem('2101-01-01', 'holiday')).toBe('calendar.outOfRange')
  })

  it('reads the year from the address, or falls back', () => {
    expect(yearFrom('2027', 2026)).toBe(2027)
    expect(yearFrom(['2028'], 2026)).toBe(2028)
    for (const bad of [undefined, 'x', '1800', '2027.5', '']) expect(yearFrom(bad, 2026)).toBe(2026)
  })
})

describe('the year grid', () => {
  const grid = yearGrid(2027, [day('2027-02-11', 'holiday'), day('2027-02-12', 'holiday'), day('2027-02-13', 'working_day')])

  it('has twelve months of Monday-first weeks with every day once', () => {
    expect(grid.map((m) => m.month)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])
    const cells = grid.flatMap((m) => m.weeks.flat()).filter((c) => c !== null)
    expect(cells).toHaveLength(365)
    expect(grid.every((m) => m.weeks.every((w) => w.length === 7))).toBe(true)
    // 2027-02-01 is a Monday: no padding; 2027-01-01 is a Friday: four empty cells before it.
    expect(grid[1].weeks[0][0]?.date).toBe('2027-02-01')
    expect(grid[0].weeks[0].slice(0, 5).map((c) => c?.day ?? null)).toEqual([null, null, null, null, 1])
  })

  it('marks holidays off and make-up working days on', () => {
    const feb = new Map(grid[1].weeks.flat().filter((c) => c !== null).map((c) => [c!.date, c!]))
    expect(feb.get('2027-02-11')).toMatchObject({ business: false, entry: { kind: 'holiday' } })
    expect(feb.get('2027-02-13')).toMatchObject({ business: true, weekend: true, entry: { kind: 'working_day' } })
    expect(feb.get('2027-02-14')).toMatchObject({ business: false, weekend: true, entry: undefined })
    expect(feb.get('2027-02-10')).toMatchObject({ business: true, weekend: false })
  })
})
