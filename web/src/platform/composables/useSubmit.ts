// Run a form's request: busy flag, API errors shown next to the fields they name, anything else
// (a refusal without a field, a network failure, a 5xx) shown above the form with a retry.
import { reactive, ref, shallowRef } from 'vue'
import { ApiError, TransientError, type Problem } from '@/api/problem'

export function useSubmit() {
  const busy = ref(false)
  const fieldErrors = reactive<Record<string, string>>({})
  /** The error not tied to a field (ApiError or TransientError), or null. */
  const error = shallowRef<ApiError | TransientError | null>(null)
  /** The last refusal's whole problem document (also when shown next to a field), e.g. its `conflict_with`. */
  const problem = shallowRef<Problem | null>(null)
  let last: (() => Promise<unknown>) | null = null

  function clear() {
    for (const k of Object.keys(fieldErrors)) delete fieldErrors[k]
    error.value = null
    problem.value = null
  }

  /** Show `e` on the form; returns true when it was one the form can show. */
  function show(e: unknown): boolean {
    if (e instanceof ApiError) {
      problem.value = e.problem
      const fields = e.fieldErrors()
      Object.assign(fieldErrors, fields)
      if (!Object.keys(fields).length) error.value = e
      return true
    }
    if (e instanceof TransientError) {
      error.value = e
      return true
    }
    return false
  }

  /** Run `action`; resolve with its result, or with undefined after showing its error. */
  async function run<T>(action: () => Promise<T>): Promise<T | undefined> {
    last = action
    clear()
    busy.value = true
    try {
      return await action()
    } catch (e) {
      if (!show(e)) throw e
      return undefined
    } finally {
      busy.value = false
    }
  }

  async function retry() {
    if (last) await run(last)
  }

  return { busy, fieldErrors, error, problem, run, retry, clear, show }
}
