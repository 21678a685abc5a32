"""Fixtures for the loader tests: a hand-written PDF builder, so tests need no PDF writer."""

from __future__ import annotations

from collections.abc import Callable

import pytest


def build_pdf(pages: list[str], title: str | None = None, labels: str | None = None) -> bytes:
    """A minimal valid PDF: one Helvetica text page per entry; lines split on newlines.

    Text is shown in Helvetica's standard encoding, so ``\\256`` writes the "fi" ligature and
    ``\\257`` "fl". ``labels`` is the ``/Nums`` array of a ``/PageLabels`` tree, such as
    ``"0 << /S /r >> 2 << /S /D >>"`` (i, ii, then 1, 2, ...).
    """
    page_labels = b" /PageLabels << /Nums [%s] >>" % labels.encode() if labels else b""
    bodies: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R%s >>" % page_labels,
        b"<< /Type /Pages /Kids [%s] /Count %d >>"
        % (" ".join(f"{4 + 2 * i} 0 R" for i in range(len(pages))).encode(), len(pages)),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    for i, text in enumerate(pages):
        shown = b" T* ".join(b"(%s) Tj" % line.encode("latin-1") for line in text.split("\n"))
        content = b"BT /F1 12 Tf 14 TL 72 720 Td " + shown + b" ET"
        bodies.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % (5 + 2 * i)
        )
        bodies.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content))
    if title is not None:
        bodies.append(b"<< /Title (%s) >>" % title.encode("latin-1"))
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(bodies, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(bodies) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    info = b" /Info %d 0 R" % len(bodies) if title is not None else b""
    out += b"trailer\n<< /Size %d /Root 1 0 R%s >>\n" % (len(bodies) + 1, info)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


@pytest.fixture
def make_pdf() -> Callable[..., bytes]:
    return build_pdf
