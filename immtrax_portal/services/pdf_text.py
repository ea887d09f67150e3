"""A PDF of paragraphs in any script the font covers: fpdf2 with DejaVu Sans embedded.

The fonts ship in the package (``assets/fonts``, with their licence), so a signer called
"Nguyễn", "Шевченко" or "Παπαδοπούλου" reads their own name in the PDF, on any machine.
fpdf2 embeds only the glyphs used and wraps the lines. Nothing here knows about agreements.
"""

from __future__ import annotations

import logging
from pathlib import Path

from fpdf import FPDF

FONTS = Path(__file__).resolve().parents[1] / "assets" / "fonts"
_FAMILY = "DejaVuSans"
_MARGIN = 54  # points: three quarters of an inch
_LINE_HEIGHT = 1.4  # times the font size

# fpdf2 logs every glyph a text needs that the font lacks; the page shows a box for it instead.
logging.getLogger("fpdf.output").setLevel(logging.ERROR)

Block = tuple[str, int, bool]  # (paragraph text, size in points, bold)


def _document(title: str) -> FPDF:
    pdf = FPDF(orientation="portrait", unit="pt", format="letter")
    pdf.set_margins(_MARGIN, _MARGIN, _MARGIN)
    pdf.set_auto_page_break(auto=True, margin=_MARGIN)
    pdf.add_font(_FAMILY, "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font(_FAMILY, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.set_title(title)
    pdf.set_creator("imMTrax Access Portal")
    pdf.set_lang("en-US")
    pdf.add_page()
    return pdf


def text_pdf(blocks: list[Block], *, title: str = "") -> bytes:
    """A letter-size PDF of paragraphs, each wrapped to the page; an empty text is a blank line."""
    pdf = _document(title)
    for text, size, bold in blocks:
        pdf.set_font(_FAMILY, "B" if bold else "", size)
        if text:
            pdf.multi_cell(0, size * _LINE_HEIGHT, text, align="L", new_x="LMARGIN", new_y="NEXT")
        else:
            pdf.ln(size * _LINE_HEIGHT)
    return bytes(pdf.output())
