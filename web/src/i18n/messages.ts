// The shape of a catalogue: the English one's (zh-CN.ts must have exactly the same keys).
import type en from './en'

export type Messages = typeof en
