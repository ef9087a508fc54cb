import { existsSync, readFileSync, rmSync } from 'node:fs'
import { TEMPLATE_FILE } from './paths'

export default function globalTeardown() {
  if (!existsSync(TEMPLATE_FILE)) return
  rmSync(readFileSync(TEMPLATE_FILE, 'utf8'), { recursive: true, force: true })
  rmSync(TEMPLATE_FILE, { force: true })
}
