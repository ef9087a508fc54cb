// The message box (ElMessageBox), fetched the first time a borrower's page asks a question with it:
// `const ok = await (await messageBox()).confirm(...)`. A staff page imports ElMessageBox directly.
export const messageBox = () => import('@/platform/message-box').then((m) => m.ElMessageBox)
