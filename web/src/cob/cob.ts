// The close of business as the monitor shows it: a run's tasks grouped by step, each step's progress
// (partitions done of all) and state, and whether the run still works (so the page keeps polling).
import type { components } from '@/api/schema'

export type CobRun = components['schemas']['CobRunRead']
export type CobTask = components['schemas']['CobTaskRead']
export type CobFailure = components['schemas']['CobFailureRead']
export type CobRunDetail = components['schemas']['CobRunDetail']
export type StepState = 'pending' | 'running' | 'done' | 'failed'

export interface StepProgress {
  step: string
  done: number
  total: number
  percent: number
  state: StepState
  loans: number
  failed: number
  durationMs: number
  tasks: CobTask[]
}

/** Seconds between two polls of a working run. */
export const POLL_MS = 1500

/** Each step's progress, in the run's order (`steps`), from its tasks. */
export function stepProgress(steps: string[], tasks: CobTask[]): StepProgress[] {
  return steps.map((step) => {
    const mine = tasks.filter((t) => t.step === step)
    const done = mine.filter((t) => t.state === 'done').length
    const total = mine.length
    const state: StepState = mine.some((t) => t.state === 'failed')
      ? 'failed'
      : total > 0 && done === total
        ? 'done'
        : mine.some((t) => t.state === 'running' || t.state === 'done')
          ? 'running'
          : total === 0
            ? 'done'
            : 'pending'
    return {
      step,
      done,
      total,
      percent: total === 0 ? 100 : Math.round((done / total) * 100),
      state,
      loans: mine.reduce((n, t) => n + t.loans, 0),
      failed: mine.reduce((n, t) => n + t.failed, 0),
      durationMs: mine.reduce((n, t) => n + t.duration_ms, 0),
      tasks: mine,
    }
  })
}

/** Whether the run still works (the monitor polls it). */
export function isWorking(run: Pick<CobRun, 'status'> | null | undefined): boolean {
  return run?.status === 'running'
}

/** The tag colour of a run's status or a step's state. */
export function statusTag(status: string): 'success' | 'warning' | 'danger' | 'info' | 'primary' {
  if (status === 'done') return 'success'
  if (status === 'running') return 'primary'
  if (status === 'done_with_failures' || status === 'failed') return 'danger'
  return 'info'
}

/** Failures still waiting for a retry. */
export function openFailures(failures: CobFailure[]): CobFailure[] {
  return failures.filter((f) => !f.retried)
}

/** The last line of an error text (the exception's message), for the table. */
export function errorHeadline(error: string): string {
  const lines = error.trim().split('\n')
  return lines[lines.length - 1] ?? ''
}
