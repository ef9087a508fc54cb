// Element Plus's form, form item and input for a page that shows its forms only when asked (an "Edit"
// or "Add" button), fetched the first time one is shown: the form, its validator (async-validator)
// and the input stay out of the page's first load (issue 20). In the page's <script setup>:
//
//     import { LazyElForm as ElForm, LazyElFormItem as ElFormItem, LazyElInput as ElInput } from '@/platform/lazyForm'
//
// and its <el-form>, <el-form-item> and <el-input> are these. A template ref on the form reaches the
// form itself once loaded (Vue forwards refs through async components): `formRef.value?.validate()`.
import { defineAsyncComponent } from 'vue'

const parts = () => import('@/platform/form-parts')

export const LazyElForm = defineAsyncComponent(() => parts().then((m) => m.ElForm))
export const LazyElFormItem = defineAsyncComponent(() => parts().then((m) => m.ElFormItem))
export const LazyElInput = defineAsyncComponent(() => parts().then((m) => m.ElInput))
