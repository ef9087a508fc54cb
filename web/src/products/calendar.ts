// The holiday calendar's logic, apart from the page: dates as ISO strings (no time zone), weekdays,
// the month grid of a year, and the rules the API enforces (checked here first for a quick answer).
import type { components } from '@/api/client'

export type CalendarDay = components['schemas']['CalendarDayRead']
export type CalendarYear = components['schemas']['CalendarYearRead']
export type DayKind = CalendarDay['kind']

/** The years the calendar keeps (the API refuses others). */
export const FIRST_YEAR = 2000
export const LAST_YEAR = 2100

/** 0 = Monday … 6 = Sunday, of a calendar date 'YYYY-MM-DD' (no time-zone shift). */
export function weekdayOf(iso: string): number {
  const [y, m, d] = iso.split('-').map(Number)
  return (new Date(Date.UTC(y, m - 1, d)).getUTCDay() + 6) % 7
}

export function isWeekend(iso: string): boolean {
  return weekdayOf(iso) >= 5
}

export function isoDate(year: number, month: number, day: number): string {
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate()
}

/** Why a day of this kind cannot be on this date (an i18n key), or null when it can. */
export function dayProblem(iso: string, kind: DayKind): string | null {
  const year = Number(iso.slice(0, 4))
  if (!(year >= FIRST_YEAR && year <= LAST_YEAR)) return 'calendar.outOfRange'
  if (kind === 'working_day' && !isWeekend(iso)) return 'calendar.workingDayWeekday'
  return null
}

export interface GridCell {
  date: string
  day: number
  weekend: boolean
  entry?: CalendarDay
  /** Whether the day is a business day by the entered data (weekends only when there is none). */
  business: boolean
}

export interface MonthGrid {
  month: number
  /** Weeks from Monday to Sunday; null pads the days of the neighbouring months. */
  weeks: (GridCell | null)[][]
}

/** The twelve month grids of `year`, with each entered day on its date. */
export function yearGrid(year: number, days: readonly CalendarDay[]): MonthGrid[] {
  const byDate = new Map(days.map((d) => [d.day, d]))
  return Array.from({ length: 12 }, (_, i) => {
    const month = i + 1
    const cells: (GridCell | null)[] = Array(weekdayOf(isoDate(year, month, 1))).fill(null)
    for (let day = 1; day <= daysInMonth(year, month); day++) {
      const date = isoDate(year, month, day)
      const entry = byDate.get(date)
      const weekend = isWeekend(date)
      const business = entry ? entry.kind === 'working_day' : !weekend
      cells.push({ date, day, weekend, entry, business })
    }
    while (cells.length % 7) cells.push(null)
    const weeks: (GridCell | null)[][] = []
    for (let k = 0; k < cells.length; k += 7) weeks.push(cells.slice(k, k + 7))
    return { month, weeks }
  })
}

/** A year in range from a route query value, or `fallback`. */
export function yearFrom(value: unknown, fallback: number): number {
  const n = Number(Array.isArray(value) ? value[0] : value)
  return Number.isInteger(n) && n >= FIRST_YEAR && n <= LAST_YEAR ? n : fallback
}
