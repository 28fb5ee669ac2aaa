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


def stored_record(cli, reference: str, number: int = 1) -> dict:
    """What the PDF of a stored decision prints (`records.decision_record`), read from the
    database as export does."""
    from sqlalchemy import text

    from reviewer.models.db import Database
    from reviewer.services.records import decision_record

    db = Database(cli.url)
    try:
        with db.read() as session:
            did = session.execute(
                text("select d.id from decisions d join requests r on r.id = d.request_id "
                     "where r.reference = :ref and d.number = :n"), {"ref": reference, "n": number}
            ).scalar_one()  # fmt: skip
            return decision_record(session, did)
    finally:
        db.dispose()
