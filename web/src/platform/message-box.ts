// Element Plus's message box, for the borrower's pages to import when they need it (lazyMessageBox):
// the box, its dialog machinery and focus trap stay out of the page's first load (issue 20).
import 'element-plus/es/components/message-box/style/css'
export { ElMessageBox } from 'element-plus'
