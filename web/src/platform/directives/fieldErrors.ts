// v-field-errors on an <el-form>: ties each field's error message and hints to its input, so that a
// screen reader reads them with the field (aria-describedby) and knows the field is wrong
// (aria-invalid). Element Plus renders the message (role="alert") but links it to nothing.
import type { Directive } from 'vue'

let counter = 0
const observers = new WeakMap<HTMLElement, MutationObserver>()

/** The field's own control: the first text input, text area or select box of the form item; else its checkbox. */
function controlOf(item: Element): HTMLElement | null {
  return (
    item.querySelector<HTMLElement>(
      '.el-form-item__content input:not([type=hidden]):not([type=radio]):not([type=checkbox]), .el-form-item__content textarea, .el-form-item__content select',
    ) ?? item.querySelector<HTMLElement>('.el-form-item__content input[type=checkbox]')
  )
}

function ensureId(el: HTMLElement, fallback: string): string {
  if (!el.id) el.id = fallback
  return el.id
}

/** Set aria-describedby and aria-invalid of every field in `root` from what the form item shows now. */
export function linkFieldErrors(root: HTMLElement): void {
  for (const item of root.querySelectorAll('.el-form-item')) {
    const control = controlOf(item)
    if (!control) continue
    const base = ensureId(control, `mc-field-${++counter}`)
    const error = item.querySelector<HTMLElement>('.el-form-item__error')
    const described: string[] = []
    if (error) described.push(ensureId(error, `${base}-error`))
    item.querySelectorAll<HTMLElement>('.field-hint').forEach((hint, i) => described.push(ensureId(hint, `${base}-hint-${i}`)))
    const value = described.join(' ')
    if (value) {
      if (control.getAttribute('aria-describedby') !== value) control.setAttribute('aria-describedby', value)
    } else control.removeAttribute('aria-describedby')
    if (error) control.setAttribute('aria-invalid', 'true')
    else control.removeAttribute('aria-invalid')
  }
}

export const vFieldErrors: Directive<HTMLElement> = {
  mounted(el) {
    linkFieldErrors(el)
    // Messages come and go as the user types; only added or removed nodes matter (not attributes,
    // which this sets itself).
    const observer = new MutationObserver(() => linkFieldErrors(el))
    observer.observe(el, { childList: true, subtree: true })
    observers.set(el, observer)
  },
  updated(el) {
    linkFieldErrors(el)
  },
  unmounted(el) {
    observers.get(el)?.disconnect()
    observers.delete(el)
  },
}
