"""The PDF of a service record certificate (志愿服务记录证明), drawn with ReportLab from the
certificate's snapshot, with a Chinese font EMBEDDED so that it reads the same on any machine.

ReportLab embeds TrueType outlines only (the Noto CJK fonts are CFF and cannot be used), so
the font is WenQuanYi Zen Hei (Debian `fonts-wqy-zenhei`, a TTC with TrueType outlines) or
AR PL UMing (`fonts-arphic-uming`), found at run time; `WENMING_PDF_FONT` (a path, with
`:N` for the N-th font of a collection) points elsewhere. `scripts/test.sh` and the
deployment notes install the Debian package.
"""

from __future__ import annotations

import io
import os
from datetime import date, datetime
from pathlib import Path

from django.conf import settings

FONT_NAME = "WenmingCJK"
# (path, index of the font in a collection)
FONT_CANDIDATES = (
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),
    ("/usr/share/fonts/truetype/arphic/ukai.ttc", 0),
    ("/usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf", 0),
)
FONT_MISSING_MESSAGE = (
    "服务器没有可嵌入PDF的中文TrueType字体，暂时无法生成证明文件。"
    "请管理员安装 fonts-wqy-zenhei（apt-get install fonts-wqy-zenhei），"
    "或设置环境变量 WENMING_PDF_FONT 指向一个TrueType中文字体文件。"
)


class FontMissing(RuntimeError):
    """No TrueType CJK font to embed: a deployment problem, not the user's."""

    def __init__(self):
        super().__init__(FONT_MISSING_MESSAGE)
        self.message = FONT_MISSING_MESSAGE


def find_font() -> tuple[str, int]:
    """The font file (and its index in a collection) to embed; FontMissing if there is none."""
    configured = getattr(settings, "WENMING_PDF_FONT", "") or os.environ.get("WENMING_PDF_FONT", "")
    candidates = list(FONT_CANDIDATES)
    if configured:
        path, _sep, index = configured.partition(":")
        candidates.insert(0, (path, int(index) if index.isdigit() else 0))
    for path, index in candidates:
        if Path(path).is_file():
            return path, index
    raise FontMissing()


_registered: tuple[str, int] | None = None


def register_font() -> str:
    """Register the CJK font with ReportLab once per process; returns its name."""
    global _registered
    found = find_font()
    if _registered != found:
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.ttfonts import TTFont

        path, index = found
        pdfmetrics.registerFont(TTFont(FONT_NAME, path, subfontIndex=index))
        # One face: <b> in a paragraph maps to the same font (no bold CJK face is installed).
        pdfmetrics.registerFontFamily(
            FONT_NAME, normal=FONT_NAME, bold=FONT_NAME, italic=FONT_NAME, boldItalic=FONT_NAME
        )
        _registered = found
    return FONT_NAME


def hours(minutes: int) -> str:
    """Minutes as hours for a certificate: 150 → "2.5", 45 → "0.75", 120 → "2"."""
    text = f"{minutes / 60:.2f}".rstrip("0").rstrip(".")
    return text or "0"


def kind_label(line: dict) -> str:
    if line["verified"] and line["recorded"]:
        return "核验+补录"
    return "补录" if line["recorded"] else "核验"


def chinese_date(value) -> str:
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    return f"{value.year}年{value.month}月{value.day}日"


def _qr_flowable(url: str, size: float):
    """The QR code as vector squares (crisp at any zoom, no image library needed)."""
    import segno
    from reportlab.platypus import Flowable

    qr = segno.make(url, error="m")
    matrix = [list(row) for row in qr.matrix]
    border = 2
    cells = len(matrix) + 2 * border

    class QR(Flowable):
        def wrap(self, avail_width, avail_height):
            return size, size

        def draw(self):
            c = self.canv
            unit = size / cells
            c.setFillColorRGB(1, 1, 1)
            c.rect(0, 0, size, size, stroke=0, fill=1)
            c.setFillColorRGB(0, 0, 0)
            for y, row in enumerate(matrix):
                for x, dark in enumerate(row):
                    if dark:
                        c.rect(
                            (x + border) * unit,
                            size - (y + border + 1) * unit,
                            unit + 0.01,
                            unit + 0.01,
                            stroke=0,
                            fill=1,
                        )

    return QR()


def render_certificate(cert, verify_url: str) -> bytes:
    """The certificate's PDF (A4), from its snapshot: what was certified, never today's records."""
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER, TA_RIGHT
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
    from reportlab.platypus.tables import LongTable

    font = register_font()
    snap = cert.snapshot
    vol, issuer, totals = snap["volunteer"], snap["issuer"], snap["totals"]
    start, end = snap["period"]

    def style(name, size, **kw):
        return ParagraphStyle(name, fontName=font, fontSize=size, leading=size * 1.5, wordWrap="CJK", **kw)

    title = style("title", 24, alignment=TA_CENTER, spaceAfter=4 * mm)
    number = style("number", 10, alignment=TA_RIGHT, textColor=colors.HexColor("#444444"))
    body = style("body", 11.5, firstLineIndent=23)
    cell = style("cell", 9.5)
    cell_num = style("cellnum", 9.5, alignment=TA_RIGHT)
    head = style("head", 9.5, textColor=colors.white)
    small = style("small", 8.5, textColor=colors.HexColor("#444444"))
    sign = style("sign", 11.5, alignment=TA_RIGHT)

    def esc(text) -> str:
        return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    story = [
        Paragraph("志愿服务记录证明", title),
        Paragraph(f"证明编号：{esc(cert.number)}", number),
        Spacer(1, 4 * mm),
        Paragraph(
            f"兹证明 <b>{esc(vol['name'])}</b>（性别：{esc(vol['gender'])}；{esc(vol['id_type'])}："
            f"{esc(vol['id_number_masked'])}；志愿者编号：{esc(vol['number'])}）"
            f"于 {chinese_date(start)} 至 {chinese_date(end)} 期间参加志愿服务 {totals['services']} 次，"
            f"累计服务时长 <b>{hours(totals['total_minutes'])} 小时</b>，"
            f"其中核验时长 {hours(totals['verified_minutes'])} 小时、"
            f"补录时长 {hours(totals['recorded_minutes'])} 小时。服务记录如下：",
            body,
        ),
        Spacer(1, 4 * mm),
    ]
    rows = [
        [
            Paragraph(h, head)
            for h in ("序号", "服务日期", "服务名称", "服务地点 / 组织单位", "时长（小时）", "类型")
        ]
    ]
    for i, line in enumerate(snap["lines"], 1):
        where = " / ".join(x for x in (line["place"], line["organisation"]) if x)
        label = kind_label(line) + ("（含更正）" if line.get("corrected") else "")
        rows.append(
            [
                Paragraph(str(i), cell_num),
                Paragraph(line["date"], cell),
                Paragraph(esc(line["title"]), cell),
                Paragraph(esc(where), cell),
                Paragraph(hours(line["verified"] + line["recorded"]), cell_num),
                Paragraph(label, cell),
            ]
        )
    for label, minutes in (
        ("核验时长合计", totals["verified_minutes"]),
        ("补录时长合计", totals["recorded_minutes"]),
        ("服务时长总计", totals["total_minutes"]),
    ):
        rows.append(
            [
                "",
                "",
                "",
                Paragraph(f"<b>{label}</b>", cell),
                Paragraph(f"<b>{hours(minutes)}</b>", cell_num),
                "",
            ]
        )
    widths = [11 * mm, 23 * mm, 44 * mm, 50 * mm, 22 * mm, 30 * mm]
    table = LongTable(rows, colWidths=widths, repeatRows=1)
    n = len(rows)
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#b71c1c")),
                ("GRID", (0, 0), (-1, n - 4), 0.4, colors.HexColor("#999999")),
                ("LINEABOVE", (3, n - 3), (4, n - 3), 0.8, colors.black),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("ROWBACKGROUNDS", (0, 1), (-1, n - 4), [colors.white, colors.HexColor("#f6f6f6")]),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    story += [
        table,
        Spacer(1, 5 * mm),
        Paragraph(
            "说明：核验时长来自活动签到、签退记录；补录时长由管理员录入、经另一名管理员审批后记入，"
            "均在上表中分别标明。更正以新增的调整记录进行，上表时长为更正后的净值。"
            "本证明依据《志愿服务条例》和《志愿服务记录与证明出具办法》出具，"
            "扫描右侧二维码或访问下列网址可在线核验真伪。",
            small,
        ),
        Spacer(1, 6 * mm),
    ]
    issued = datetime.fromisoformat(snap["issued_at"])
    signature = [
        Paragraph(f"出具单位：{esc(issuer['name'])}", sign),
        Paragraph(f"负责人：{esc(issuer['responsible'] or '—')}", sign),
        Paragraph(f"经办人：{esc(issuer['handler'])}", sign),
        Paragraph(f"出具日期：{chinese_date(issued.date())}", sign),
    ]
    qr_size = 32 * mm
    footer = Table(
        [[signature, _qr_flowable(verify_url, qr_size)]],
        colWidths=[180 * mm - qr_size - 6 * mm, qr_size + 6 * mm],
    )
    footer.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("ALIGN", (1, 0), (1, 0), "RIGHT")]))
    story.append(KeepTogether([footer, Spacer(1, 2 * mm), Paragraph(f"在线核验：{esc(verify_url)}", small)]))

    def page_decor(canvas, doc):
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.setFillColorRGB(0.4, 0.4, 0.4)
        canvas.drawString(15 * mm, 10 * mm, f"志愿服务记录证明 {cert.number}")
        canvas.drawRightString(195 * mm, 10 * mm, f"第 {doc.page} 页")
        canvas.restoreState()

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=f"志愿服务记录证明 {cert.number}",
        author=issuer["name"],
        subject="志愿服务记录证明",
        creator="文明实践云平台",
    )
    doc.build(story, onFirstPage=page_decor, onLaterPages=page_decor)
    return buffer.getvalue()
