"""The default contract template (zh-CN): a full small-loan contract, seeded as version 1 of `loan`.

The HTML is a Jinja2 template rendered in a sandbox with autoescape (contracts.rendering); its
context is described there. The DOCX template (docxtpl) is built here with python-docx, so the
repository holds no binary: the same placeholders in a Word document an institution can restyle.
The APR (annualised by IRR, PBOC 〔2021〕 No. 3) is stated first and in the largest figure of the
rate section; the monthly and daily rates follow it, smaller.
"""

# ruff: noqa: E501  (the template text keeps its lines whole)
from __future__ import annotations

import io

DEFAULT_CODE = "loan"
DEFAULT_NAME = "个人借款合同（小额贷款）"
DEFAULT_LANGUAGE = "zh-CN"

DEFAULT_HTML = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>借款合同 {{ contract.number }}</title>
<style>
  @page { size: A4; margin: 18mm 16mm 20mm 16mm;
          @bottom-center { content: "合同编号 {{ contract.number }} · 第 " counter(page) " 页 / 共 " counter(pages) " 页";
                           font-family: "Noto Sans CJK SC", "WenQuanYi Zen Hei", sans-serif; font-size: 8pt;
                           color: #555; } }
  body { font-family: "Noto Sans CJK SC", "WenQuanYi Zen Hei", sans-serif; font-size: 10.5pt; line-height: 1.6;
         color: #111; }
  h1 { text-align: center; font-size: 18pt; margin: 0 0 4mm; letter-spacing: 2px; }
  h2 { font-size: 12pt; margin: 5mm 0 2mm; border-bottom: 1px solid #999; }
  .meta { text-align: center; color: #444; font-size: 9.5pt; }
  table { border-collapse: collapse; width: 100%; }
  th, td { border: 1px solid #888; padding: 1mm 1.5mm; font-size: 9pt; }
  th { background: #eee; }
  td.num { text-align: right; white-space: nowrap; }
  .parties td { border: none; padding: 0.5mm 0; font-size: 10.5pt; }
  .apr { border: 2px solid #b00; padding: 2mm 3mm; margin: 2mm 0; }
  .apr .figure { font-size: 16pt; font-weight: bold; color: #b00; }
  .rates { font-size: 10pt; }
  .sig td { border: none; padding: 6mm 0 0; vertical-align: top; width: 50%; }
  .record { page-break-before: always; }
  .record td { font-size: 10pt; }
  .mono { font-family: "Noto Sans Mono CJK SC", monospace; word-break: break-all; }
</style>
</head>
<body>
<h1>个人借款合同</h1>
<p class="meta">合同编号：{{ contract.number }}　　申请编号：{{ contract.application_number }}　　订立日期：{{ contract.date }}</p>

<table class="parties">
  <tr><td>贷款人（甲方）：{{ lender.name }}</td></tr>
  {% if lender.address %}<tr><td>住所：{{ lender.address }}</td></tr>{% endif %}
  <tr><td>借款人（乙方）：{{ borrower.name }}</td></tr>
  <tr><td>身份证号码：{{ borrower.id_number_masked }}</td></tr>
</table>

<p>甲乙双方根据《中华人民共和国民法典》等法律法规，经平等协商，就乙方向甲方借款事宜订立本合同，共同遵守。</p>

<h2>第一条　借款金额、用途与期限</h2>
<p>1. 借款金额：人民币（大写）{{ terms.amount_words }}（小写 ¥{{ terms.amount }}）。</p>
<p>2. 借款用途：{{ terms.purpose_name }}{% if terms.purpose_note %}（{{ terms.purpose_note }}）{% endif %}。乙方不得将借款用于购房、证券投资、期货等国家禁止或限制的领域。</p>
<p>3. 借款期限：{{ terms.term }} {{ terms.period_unit_name }}，自 {{ terms.start_date }} 起至 {{ terms.maturity_date }} 止，以实际放款日为准顺延。</p>

<h2>第二条　利率与综合融资成本</h2>
<div class="apr">
  <p>年化利率（按内部收益率 IRR 法计算，含本合同约定的全部利息和费用）：<span class="figure">{{ terms.apr_percent }}%</span></p>
</div>
<p class="rates">合同约定的贷款年利率为 {{ terms.annual_rate_percent }}%（单利，{{ terms.day_count }} 计息），折合月利率 {{ terms.monthly_rate_percent }}%、日利率 {{ terms.daily_rate_percent }}%。上述月利率、日利率仅为折算，乙方实际承担的年化综合资金成本以上述年化利率为准。</p>
<p>借款期内应付利息合计 ¥{{ terms.totals.interest }}，费用合计 ¥{{ terms.totals.fees }}，还款总额 ¥{{ terms.totals.total_payable }}，借款总成本 ¥{{ terms.totals.total_cost_of_credit }}。</p>

<h2>第三条　还款方式与还款计划</h2>
<p>还款方式：{{ terms.method_name }}。乙方应按下表于每期还款日足额还款（遇节假日按产品约定调整的，以下表日期为准）：</p>
<table>
  <thead><tr><th>期次</th><th>还款日</th><th>本金</th><th>利息</th><th>费用</th><th>应还合计</th><th>剩余本金</th></tr></thead>
  <tbody>
  {% for row in terms.installments %}
  <tr><td class="num">{{ row.number }}</td><td>{{ row.due_date }}</td><td class="num">{{ row.principal }}</td>
      <td class="num">{{ row.interest }}</td><td class="num">{{ row.fees }}</td><td class="num">{{ row.total }}</td>
      <td class="num">{{ row.balance_after }}</td></tr>
  {% endfor %}
  <tr><th colspan="2">合计</th><th class="num">{{ terms.totals.principal }}</th><th class="num">{{ terms.totals.interest }}</th>
      <th class="num">{{ terms.totals.fees }}</th><th class="num">{{ terms.totals.total_payable }}</th><th></th></tr>
  </tbody>
</table>

<h2>第四条　费用</h2>
{% if terms.fees %}
<table>
  <thead><tr><th>费用名称</th><th>收取方</th><th>每次金额</th><th>次数</th><th>合计</th></tr></thead>
  <tbody>
  {% for fee in terms.fees %}
  <tr><td>{{ fee.name }}</td><td>{{ fee.payee_name }}</td><td class="num">{{ fee.per_charge }}</td>
      <td class="num">{{ fee.charges }}</td><td class="num">{{ fee.total }}</td></tr>
  {% endfor %}
  </tbody>
</table>
<p>除上表所列费用外，甲方不向乙方收取任何其他费用；甲方不得从借款本金中预先扣除利息。</p>
{% else %}
<p>本合同项下甲方不向乙方收取任何费用；甲方不得从借款本金中预先扣除利息。</p>
{% endif %}

<h2>第五条　逾期罚息</h2>
<p>乙方未按期足额还款的，自逾期之日{% if terms.penalty.grace_days %}（宽限期 {{ terms.penalty.grace_days }} 日届满后）{% endif %}起，对逾期本金按年利率 {{ terms.penalty.rate_percent }}% 计收罚息{% if terms.penalty.compound %}，对逾期未付利息计收复利{% endif %}，直至清偿之日止。{% if terms.penalty.late_fee %}某期逾期超过 {{ terms.penalty.late_fee.after_days }} 日仍未足额归还的，就该期一次性计收滞纳金 {{ terms.penalty.late_fee.amount }} 元{% if terms.penalty.late_fee.percent != "0" %}，另加该期届时未还本息的 {{ terms.penalty.late_fee.percent }}%{% endif %}。{% endif %}{% if terms.penalty.cap_percent %}每期逾期后计收的罚息、复利{% if terms.penalty.late_fee %}、滞纳金{% endif %}（以及逾期本金继续计收的利息）合计，按该期未还本息与逾期天数折算的年化比率不超过 {{ terms.penalty.cap_percent }}%，超出部分不予计收。{% else %}罚息与本合同全部利息、费用合计折算的年化利率不超过法律规定的上限。{% endif %}</p>

<h2>第六条　提前还款</h2>
<p>乙方可提前归还全部或部分借款，利息按实际占用天数计算，甲方不收取提前还款违约金。</p>

<h2>第七条　违约与提前到期</h2>
<p>乙方有下列情形之一的，构成违约：（一）连续两期或累计三期未按期足额还款；（二）改变借款用途；（三）提供虚假材料或隐瞒重要事实；（四）发生其他足以影响其偿债能力的重大不利事项。</p>
<p>乙方违约的，甲方有权宣布本合同项下借款全部提前到期，要求乙方立即清偿全部本金、利息、罚息和费用，并有权依法采取催收措施。甲方的催收行为应当合法合规，不得采用暴力、威胁或骚扰等不当方式。</p>

<h2>第八条　信息与通知</h2>
<p>乙方同意甲方依法向金融信用信息基础数据库报送本合同项下的信贷信息。双方以乙方登记的手机号码和本系统站内消息作为通知方式。</p>

<h2>第九条　争议解决</h2>
<p>本合同适用中华人民共和国法律。因本合同发生的争议，双方应协商解决；协商不成的，任何一方均可向甲方住所地有管辖权的人民法院提起诉讼。</p>

<h2>第十条　合同生效</h2>
<p>本合同以电子形式订立。乙方通过短信验证码确认签署、甲方加盖电子签名（PAdES 数字签名）后生效。电子合同与纸质合同具有同等法律效力；任何对本文件的改动都会使数字签名失效。</p>

<table class="sig">
  <tr><td>贷款人（甲方）：{{ lender.name }}<br>（数字签名）</td>
      <td>借款人（乙方）：{{ borrower.name }}<br>（短信验证码电子签名）</td></tr>
</table>

{% if signature %}
<div class="record">
<h2>电子签名记录</h2>
<table>
  <tr><th>签署人</th><td>{{ signature.name }}（身份证号码 {{ borrower.id_number_masked }}）</td></tr>
  <tr><th>签署时间（UTC）</th><td>{{ signature.at }}</td></tr>
  <tr><th>验证方式</th><td>短信验证码（发送至 {{ signature.phone_masked }}）</td></tr>
  <tr><th>IP 地址</th><td>{{ signature.ip }}</td></tr>
  <tr><th>设备标识</th><td>{{ signature.device_id }}</td></tr>
  <tr><th>浏览器</th><td>{{ signature.user_agent }}</td></tr>
  <tr><th>所签文件 SHA-256</th><td class="mono">{{ signature.document_sha256 }}</td></tr>
</table>
<p>乙方签署的是上述 SHA-256 摘要所对应的合同文件；本页之前的内容与该文件相同。甲方随后对本文件加盖了数字签名。</p>
</div>
{% endif %}
</body>
</html>
"""


def default_docx() -> bytes:
    """The default DOCX template (docxtpl placeholders in a Word document), built with python-docx."""
    from docx import Document

    doc = Document()
    doc.add_heading("个人借款合同", level=0)
    doc.add_paragraph("合同编号：{{ contract.number }}　申请编号：{{ contract.application_number }}　"
                      "订立日期：{{ contract.date }}")
    doc.add_paragraph("贷款人（甲方）：{{ lender.name }}")
    doc.add_paragraph("借款人（乙方）：{{ borrower.name }}　身份证号码：{{ borrower.id_number_masked }}")
    doc.add_heading("借款金额、用途与期限", level=1)
    doc.add_paragraph("借款金额：人民币（大写）{{ terms.amount_words }}（小写 ¥{{ terms.amount }}）；"
                      "用途：{{ terms.purpose_name }}；期限：{{ terms.term }} {{ terms.period_unit_name }}，"
                      "自 {{ terms.start_date }} 起至 {{ terms.maturity_date }} 止。")
    doc.add_heading("利率与综合融资成本", level=1)
    doc.add_paragraph("年化利率（IRR，含全部利息和费用）：{{ terms.apr_percent }}%").runs[0].bold = True
    doc.add_paragraph("合同年利率 {{ terms.annual_rate_percent }}%，折合月利率 {{ terms.monthly_rate_percent }}%、"
                      "日利率 {{ terms.daily_rate_percent }}%。还款总额 ¥{{ terms.totals.total_payable }}。")
    doc.add_heading("还款计划（{{ terms.method_name }}）", level=1)
    table = doc.add_table(rows=4, cols=6)
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, ("期次", "还款日", "本金", "利息", "费用", "应还合计"), strict=True):
        cell.text = text
    table.rows[1].cells[0].text = "{%tr for row in terms.installments %}"
    for cell, text in zip(table.rows[2].cells, ("{{ row.number }}", "{{ row.due_date }}", "{{ row.principal }}",
                                                "{{ row.interest }}", "{{ row.fees }}", "{{ row.total }}"),
                          strict=True):
        cell.text = text
    table.rows[3].cells[0].text = "{%tr endfor %}"
    doc.add_heading("费用", level=1)
    doc.add_paragraph("{% for fee in terms.fees %}{{ fee.name }}（收取方：{{ fee.payee_name }}）合计 ¥{{ fee.total }}；"
                      "{% else %}无{% endfor %}")
    doc.add_heading("逾期罚息、违约与争议解决", level=1)
    doc.add_paragraph("逾期本金按年利率 {{ terms.penalty.rate_percent }}% 计收罚息{% if terms.penalty.late_fee %}，逾期超过 "
                      "{{ terms.penalty.late_fee.after_days }} 日另计滞纳金{% endif %}。乙方连续两期或累计三期未按期足额还款的，"
                      "甲方有权宣布借款提前到期。争议由甲方住所地有管辖权的人民法院管辖。")
    doc.add_paragraph("本 Word 文件为可编辑副本，仅供阅读；以甲方数字签名的 PDF 合同为准。")
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
