"""A tiny PDF writer: a few pages of Helvetica text, no dependency.

Enough for a signed agreement the applicant can keep; nothing here knows about agreements.
"""

from __future__ import annotations

import textwrap

_PAGE_W, _PAGE_H, _MARGIN = 612, 792, 54


def wrapped_lines(text: str, size: int, bold: bool) -> list[tuple[str, int, bool]]:
    width = int((_PAGE_W - 2 * _MARGIN) / (size * 0.52))
    return [(line, size, bold) for line in textwrap.wrap(text, width, break_long_words=True)]


def _pdf_string(text: str) -> bytes:
    raw = text.encode("cp1252", errors="replace")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def _page_streams(lines: list[tuple[str, int, bool]]) -> list[bytes]:
    pages, current, y = [], [], _PAGE_H - _MARGIN
    for text, size, bold in lines:
        step = size * 1.4
        if y - step < _MARGIN and current:
            pages.append(b"".join(current))
            current, y = [], _PAGE_H - _MARGIN
        y -= step
        if text:
            current.append(b"BT /%s %d Tf 1 0 0 1 %d %.1f Tm %s Tj ET\n"
                           % (b"F2" if bold else b"F1", size, _MARGIN, y, _pdf_string(text)))
    pages.append(b"".join(current))
    return pages


def text_pdf(lines: list[tuple[str, int, bool]], *, title: str = "") -> bytes:
    """A valid PDF 1.4 of (text, size, bold) lines: catalog, pages, two base-14 fonts, xref."""
    streams = _page_streams(lines)
    first_page = 5
    kids = " ".join(f"{first_page + 2 * i} 0 R" for i in range(len(streams)))
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {len(streams)} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
    ]
    for i, stream in enumerate(streams):
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {_PAGE_W} {_PAGE_H}] "
                       f"/Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> "
                       f"/Contents {first_page + 2 * i + 1} 0 R >>".encode())
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    objects.append(b"<< /Title %s /Producer (imMTrax Access Portal) >>" % _pdf_string(title))
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, len(objects), xref_at)
    return bytes(out)
