// Element Plus's form, form item and input with their styles, as one module for lazyForm.ts.
import 'element-plus/es/components/form/style/css'
import 'element-plus/es/components/form-item/style/css'
import 'element-plus/es/components/input/style/css'
export { ElForm, ElFormItem, ElInput } from 'element-plus'
