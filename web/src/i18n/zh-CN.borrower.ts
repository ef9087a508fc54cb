// The borrower app's part of zh-CN.ts. In the build it holds only the keys the borrower app names
// (scripts/i18n-parts.ts); in tests and the type check it is the whole catalogue. Messages live in zh-CN.ts.
export { default } from './zh-CN'
