"""The requests of the PDF tests (awkward names in several scripts, a description long enough
for several pages) and `pdf_text`, which reads a record back with pypdf."""

from __future__ import annotations

from pypdf import PdfReader

LONG = ("Lorem ipsum dolor sit amet, consectetur adipiscing. " * 400)[:19_982] + "END-OF-DESCRIPTION"
NAMES = {
    "R-MARKUP": "Acme <b>Corp</b> & Sons <para>",
    "R-GERMAN": "Müller & Söhne",
    "R-CYRILLIC": "Пример",
    "R-CJK": "示例有限公司",
    "R-ARABIC": "شركة مثال",
}


def pdf_text(path) -> tuple[str, list[str], dict]:
    reader = PdfReader(path)
    pages = [p.extract_text() for p in reader.pages]
    return "\n".join(pages), pages, reader.metadata
