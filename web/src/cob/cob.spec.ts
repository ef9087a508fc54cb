import { describe, expect, it } from 'vitest'
import { errorHeadline, isWorking, openFailures, stepProgress, type CobFailure, type CobTask } from '@/cob/cob'

function task(step: string, partition: number, state: CobTask['state'], loans = 0, failed = 0): CobTask {
  return {
    id: partition, step, position: 10, partition, first_loan_id: partition, last_loan_id: partition, state, loans,
    failed, counts: {}, attempts: state === 'pending' ? 0 : 1, started_at: null, finished_at: null, duration_ms: 5,
  }
}

describe('stepProgress', () => {
  it('counts the partitions done per step, in the run order, and sums loans and failures', () => {
    const tasks = [task('advance', 1, 'done', 500), task('advance', 2, 'done', 120, 1), task('classify', 1, 'running'),
      task('classify', 2, 'pending'), task('remind', 1, 'pending'), task('remind', 2, 'pending')]
    const [advance, classify, remind] = stepProgress(['advance', 'classify', 'remind'], tasks)
    expect(advance).toMatchObject({ done: 2, total: 2, percent: 100, state: 'done', loans: 620, failed: 1, durationMs: 10 })
    expect(classify).toMatchObject({ done: 0, total: 2, percent: 0, state: 'running' })
    expect(remind).toMatchObject({ done: 0, total: 2, state: 'pending' })
  })

  it('shows a step with some partitions done as running, and a run without loans as done', () => {
    const [half] = stepProgress(['advance'], [task('advance', 1, 'done'), task('advance', 2, 'pending')])
    expect(half).toMatchObject({ state: 'running', percent: 50 })
    expect(stepProgress(['advance'], [])[0]).toMatchObject({ state: 'done', percent: 100, total: 0 })
  })
})

describe('the run and its failures', () => {
  it('polls only a running run', () => {
    expect(isWorking({ status: 'running' })).toBe(true)
    expect(isWorking({ status: 'done' })).toBe(false)
    expect(isWorking({ status: 'done_with_failures' })).toBe(false)
    expect(isWorking(null)).toBe(false)
  })

  it('lists the failures a retry has not fixed, headed by their last line', () => {
    const failures = [
      { id: 1, loan_id: 7, step: 'classify', error: 'Traceback\nRuntimeError: no rate', at: '', retried: false, retry_result: null },
      { id: 2, loan_id: 8, step: 'advance', error: 'ValueError: x', at: '', retried: true, retry_result: 'fixed' },
    ] satisfies CobFailure[]
    expect(openFailures(failures).map((f) => f.loan_id)).toEqual([7])
    expect(errorHeadline(failures[0].error)).toBe('RuntimeError: no rate')
  })
})
