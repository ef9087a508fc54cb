// Stands in for @ctrl/tinycolor inside Element Plus's button (vite.config.ts, noButtonColor): the
// library only serves the button's `color` prop, which no button here uses, and would otherwise be
// in every page's first load (~4 KB compressed). A button given a color says so at once.
export class TinyColor {
  constructor(color: string) {
    throw new Error(`el-button's color prop (${color}) is not supported: see vite.config.ts, noButtonColor`)
  }
}
