"""Printable PDF of one or more reports (fpdf2): A4 landscape, the filters, each report's chart (the same SVG the
dashboard shows) and its table with totals, in core.pdf's font."""
import io
import logging

from core.pdf import pdf_font
from reports.svg import chart_svg

logger = logging.getLogger(__name__)

PAGE_WIDTH = 277  # A4 landscape minus margins, mm
MAX_PDF_ROWS = 2000  # rows of one report in a printed file (the CSV has them all)


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


def _filters_text(filters):
    shown = [f"{key}: {value}" for key, value in filters.items() if value and key != "level"]
    return ", ".join(shown + [f"level: {filters.get('level')}"]) or "-"


def render_pdf(results, title="Programme report", subtitle=""):
    from fpdf import FPDF

    class ReportPDF(FPDF):
        def footer(self):
            self.set_y(-10)
            self.set_font(self.report_font, "", 8)
            self.cell(0, 5, self.report_clean(f"{title} - page {self.page_no()}/{{nb}}"), align="R")

    pdf = ReportPDF(orientation="L", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=True, margin=12)
    font, clean = pdf_font(pdf)
    pdf.report_font, pdf.report_clean = font, clean
    pdf.set_title(title)
    pdf.set_creator("openIMIS reports")
    pdf.add_page()
    pdf.set_font(font, "B", 16)
    pdf.cell(0, 9, clean(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(font, "", 10)
    if subtitle:
        pdf.cell(0, 6, clean(subtitle), new_x="LMARGIN", new_y="NEXT")
    if results:
        pdf.cell(0, 6, clean(f"Filters: {_filters_text(results[0].filters)}"), new_x="LMARGIN", new_y="NEXT")
        pdf.cell(0, 6, clean(f"Generated: {results[0].generated_at:%Y-%m-%d %H:%M} UTC"), new_x="LMARGIN",
                 new_y="NEXT")
    for index, result in enumerate(results):
        if index:
            pdf.add_page()
        pdf.ln(2)
        pdf.set_font(font, "B", 12)
        pdf.cell(0, 8, clean(result.definition.title), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(font, "", 8)
        note = result.definition.description
        if result.as_of:
            note += f" Figures as of {result.as_of:%Y-%m-%d %H:%M} UTC (summary tables)."
        if note:
            pdf.multi_cell(0, 4, clean(note), new_x="LMARGIN", new_y="NEXT")
        svg = chart_svg(result)
        if svg and result.rows:
            try:
                pdf.image(io.BytesIO(svg.encode()), w=200)
            except Exception:  # a chart fpdf cannot draw never costs the figures: the table follows
                logger.warning("reports: chart of %s not drawn in the PDF", result.name, exc_info=True)
        header, cells = result.table()
        if not cells:
            pdf.cell(0, 6, clean("No data."), new_x="LMARGIN", new_y="NEXT")
            continue
        totals = result.totals
        keys = result.definition.column_keys
        widths = [max(14, min(60, 4 + 1.9 * max(len(header[i]), *(len(_cell(r[i])) for r in cells[:200]))))
                  for i in range(len(header))]
        scale = min(1.0, PAGE_WIDTH / sum(widths))
        widths = [w * scale for w in widths]
        with pdf.table(col_widths=widths, width=sum(widths), first_row_as_headings=True, repeat_headings=1,
                       text_align="LEFT", align="LEFT") as table:
            table.row([clean(h) for h in header])
            for row in cells[:MAX_PDF_ROWS]:
                table.row([clean(_cell(v)) for v in row])
            if totals:
                table.row([clean("Total" if i == 0 and keys[0] not in totals else _cell(totals.get(k, "")))
                           for i, k in enumerate(keys)])
        if len(cells) > MAX_PDF_ROWS:
            pdf.cell(0, 6, clean(f"{len(cells) - MAX_PDF_ROWS} more rows in the CSV."), new_x="LMARGIN",
                     new_y="NEXT")
    return bytes(pdf.output())
