"""Decision records: the PDF of every final decision (rendered on every core, each worker
reading the database on its own connection) and `verify --pdf` against the database."""

from __future__ import annotations

import hashlib
import io
import json
import multiprocessing
import os
import re
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reviewer import request as rq
from reviewer.errors import InvalidInput, NotFound
from reviewer.export.documents import part_of, write_whole
from reviewer.export.text import explanation_lines, roles_text
from reviewer.models import (
    Account,
    AuditEvent,
    ChainHead,
    Condition,
    Decision,
    Outcome,
    Request,
    RuleSetVersion,
)
from reviewer.models.db import Database
from reviewer.rules.explain import explainer_for
from reviewer.services import keys
from reviewer.services.audit import GENESIS, record_hash, utc_now
from reviewer.services.evaluations import verified_rules
from reviewer.services.settings import get_setting
from reviewer.vocabulary import CERTIFICATE_PREFIX, ORG_SETTINGS, event_words

PDF_OUTCOMES = (Outcome.APPROVE, Outcome.APPROVE_WITH_CONDITIONS, Outcome.REFUSE)
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
DatabaseOpener = Callable[[], Database]


_HASHED = re.compile(r".*-[0-9a-f]{8}")


def pdf_name(reference: str, number: int) -> str:
    """`<reference>-d<N>.pdf`; unsafe characters become `_` and the reference's SHA-256
    prefix is appended, so REQ/1 and REQ_1 cannot collide. A reference that itself ends as
    such a name does (`-` and 8 hex digits) gets its own prefix too: `a_..-57717b01`, the
    name of `a/..`, cannot take that name from it."""
    safe = _UNSAFE.sub("_", reference)
    if safe != reference or _HASHED.fullmatch(reference):
        safe += "-" + hashlib.sha256(reference.encode("utf-8")).hexdigest()[:8]
    return f"{safe}-d{number}.pdf"


def decision_record(session: Session, decision_id: int) -> dict[str, Any]:
    """Everything a PDF prints, as plain data (picklable, Qt- and ORM-free)."""
    d = session.get(Decision, decision_id)
    if d is None:
        raise NotFound(f"no decision {decision_id}")
    req = session.get(Request, d.request_id)
    assert req is not None
    decider = session.get(Account, d.decider_id)
    checker = session.get(Account, d.checker_id) if d.checker_id else None
    conditions = session.execute(
        select(Condition).where(Condition.decision_id == d.id).order_by(Condition.id)
    ).scalars()
    rs_id, _, rs_version = d.rule_set_key.partition("@")
    rule_set = session.execute(
        select(RuleSetVersion).where(RuleSetVersion.rule_set_id == rs_id,
                                     RuleSetVersion.version == int(rs_version or 0))
    ).scalar_one_or_none()  # fmt: skip
    head = session.get(ChainHead, 1)
    document = json.loads(d.snapshot)
    # The request's history in brief, up to the event that made this decision final: later
    # events (a reopening, a new decision) never change a record once exported.
    history = [
        {"seq": e.seq, "time": e.time, "actor": e.actor, "action": e.action,
         "words": event_words(e.action, json.loads(e.payload))}
        for e in session.execute(
            select(AuditEvent).where(AuditEvent.reference == req.reference,
                                     AuditEvent.seq <= (d.event_seq or 0)).order_by(AuditEvent.seq)
        ).scalars()
    ]  # fmt: skip
    # The evidence on file when the decision became final, as its attach events recorded it:
    # a later attachment or redaction (which keeps name, size and hash) never changes it.
    attached = [
        {k: p.get(k) for k in ("number", "name", "size", "sha256")}
        for p in (json.loads(text) for text in session.execute(
            select(AuditEvent.payload).where(AuditEvent.reference == req.reference,
                                             AuditEvent.action == "attach",
                                             AuditEvent.seq <= (d.event_seq or 0))
            .order_by(AuditEvent.seq)).scalars())
    ]  # fmt: skip
    judgement: list[str] = []
    effective: str | None = None
    if rule_set is not None:  # what the facts needed and what would have changed it
        ruleset = verified_rules(session, rule_set)  # its text checked against its SHA-256
        e = explainer_for(ruleset).explain(document, json.loads(d.evaluation).get("customer_total"))
        judgement = explanation_lines(e, ruleset.titles, words=True)
        # From the verified text, not the column beside it (which nothing else vouches for).
        effective = ruleset.effective_on.isoformat() if ruleset.effective_on else None
    return {
        "judgement": judgement,
        "history": history,
        "attachments": attached,
        "reference": req.reference, "number": d.number, "outcome": d.outcome.value,
        "document": document, "evaluation": json.loads(d.evaluation),
        "conditions": [{"id": c.id, "rule": c.rule, "text": c.text,
                        "due": c.due_on.isoformat() if c.due_on else None} for c in conditions],
        "justification": d.justification,
        "re_review": d.re_review_on.isoformat() if d.re_review_on else None,
        "decider": decider.name if decider else "?", "decider_roles": d.decider_roles,
        "decided_at": d.decided_at, "checker": checker.name if checker else None,
        "checker_roles": d.checker_roles, "checked_at": d.checked_at,
        "rule_set": d.rule_set_key, "rule_set_sha256": d.rule_set_sha256,
        "rule_set_effective": effective,
        "request_version": d.request_version, "snapshot_sha256": d.snapshot_sha256,
        "record_hash": d.record_hash, "event_seq": d.event_seq,
        "head_seq": head.seq if head else 0, "head_hash": head.hash if head else "0" * 64,
        "organisation": get_setting(session, "organisation_name"),
        # The one value that differs between two exports of the same decision at the same
        # chain head: printed once, in the integrity block (verify reads it back).
        "exported_at": utc_now(),
    }  # fmt: skip


@dataclass
class Target:
    decision_id: int
    reference: str
    number: int
    path: Path
    replace: bool = False  # --overwrite: an existing file of its name is replaced


def select_decisions(session: Session, refs: list[str], all_decided: bool) -> list[tuple[int, str, int]]:
    """Final decisions that get a PDF (approve, approve_with_conditions, refuse)."""
    query = (select(Decision.id, Request.reference, Decision.number)
             .join(Request, Request.id == Decision.request_id)
             .where(Decision.final.is_(True), Decision.rejected.is_(False),
                    Decision.outcome.in_(PDF_OUTCOMES))
             .order_by(Request.reference, Decision.number))  # fmt: skip
    if not all_decided:
        found = {r for (r,) in session.execute(select(Request.reference).where(Request.reference.in_(refs)))}
        missing = [r for r in refs if r not in found]
        if missing:
            raise NotFound(f"no request with reference {', '.join(missing)}")
        query = query.where(Request.reference.in_(refs))
    rows = [(i, r, n) for i, r, n in session.execute(query)]
    if not all_decided:
        have = {r for _i, r, _n in rows}
        without = [r for r in refs if r not in have]
        if without:
            raise NotFound(
                f"no final decision to export for {', '.join(without)} (pending, "
                "rejected and returned decisions get no PDF)"
            )
    return rows


def plan(rows: Iterable[tuple[int, str, int]], out_dir: Path, overwrite: bool) -> list[Target]:
    targets = [Target(i, r, n, out_dir / pdf_name(r, n), overwrite) for i, r, n in rows]
    by_name: dict[Path, Target] = {}
    for t in targets:
        other = by_name.setdefault(t.path, t)
        if other is not t:  # two references whose names share a SHA-256 prefix: never one file
            raise InvalidInput([f"{t.path.name}: the name of both {other.reference} decision "
                                f"{other.number} and {t.reference} decision {t.number}; export "
                                "them to different folders"])  # fmt: skip
    if not overwrite:
        existing = [str(t.path) for t in targets if t.path.exists()]
        if existing:
            raise InvalidInput([f"{p}: already exists (use --overwrite)" for p in existing])
    return targets


def _write(record: dict[str, Any], path: Path, key: Any = None, replace: bool = True) -> None:
    """Render one PDF (signed with `key`, a `signing.Key`, when there is one) and write it
    whole or not at all (`documents.write_whole`)."""
    # ReportLab (and pyHanko) are loaded on the first PDF only: most commands never render one.
    from reviewer.export.pdf import render_bytes

    if key is None:
        write_whole(path, render_bytes(record), replace)
        return
    from reviewer.export.signing import sign

    write_whole(path, sign(render_bytes({**record, "certificate": key.fingerprint}), key), replace)


_WORKER_DB: list[Database] = []
_WORKER_KEY: list[Any] = []


def _init_worker(open_db: DatabaseOpener, passphrase: bytes | None = None) -> None:
    """Open the database, and load the signing key once (never per record: reading the
    PKCS#12 costs more than a signature)."""
    _WORKER_DB[:] = [open_db()]
    _WORKER_KEY[:] = [keys.load(passphrase) if passphrase is not None else None]


def _export_chunk(chunk: list[tuple[int, str, bool]]) -> int:
    db, key = _WORKER_DB[0], _WORKER_KEY[0]
    for decision_id, path, replace in chunk:
        with db.read() as session:
            record = decision_record(session, decision_id)
        _write(record, Path(path), key, replace)
    return len(chunk)


def export_pdfs(
    open_db: DatabaseOpener,
    targets: list[Target],
    jobs: int = 1,
    progress: Callable[[int, int], None] | None = None,
    passphrase: bytes | None = None,
) -> int:
    """Render the targets, on `jobs` processes; each opens the database on its own with
    `open_db` (a picklable callable, such as `functools.partial(context.open_database, url)`)
    and, given the passphrase, signs with the workstation's key."""
    items = [(t.decision_id, str(t.path), t.replace) for t in targets]
    done = 0
    if passphrase is not None:
        keys.load(passphrase)  # a wrong passphrase stops here, before any worker starts
    if jobs <= 1 or len(items) < 4:
        _init_worker(open_db, passphrase)
        try:
            for item in items:
                done += _export_chunk([item])
                if progress:
                    progress(done, len(items))
        finally:
            _WORKER_DB.pop().dispose()  # in this process: close what it opened
        return done
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    size = max(1, min(25, len(items) // (jobs * 4)))
    chunks = [items[i : i + size] for i in range(0, len(items), size)]
    try:
        with multiprocessing.get_context(method).Pool(jobs, _init_worker, (open_db, passphrase)) as pool:
            for n in pool.imap_unordered(_export_chunk, chunks):
                done += n
                if progress:
                    progress(done, len(items))
    except BaseException:
        # The pool's end stopped the other workers wherever they were: no part stays.
        for t in targets:
            if os.path.lexists(part_of(t.path)):
                part_of(t.path).unlink()
        raise
    return done


# --------------------------------------------------------------------------- verify --pdf


def _collapse(s: str) -> str:
    return " ".join(s.split())


MAX_PDF_BYTES = 64 * 1024 * 1024  # far above any record or report: a larger file is not one
RECORD_KEYWORDS = re.compile(r"record-hash:([0-9a-f]{64})(?: renderer:([1-9][0-9]{0,3}))?")
REPORT_KEYWORDS = re.compile(r"transparency-report chain-head:([0-9]{1,12}):([0-9a-f]{64})")


def verify_pdfs(session: Session, paths: list[str]) -> list[tuple[str, list[str]]]:
    """Each file with its problems against the database; the organisation's certificates
    (audited, parsed) are read once for all of them, and only when there are files."""
    if not paths:
        return []
    certs = keys.recorded(session)
    return [(path, verify_pdf(session, path, certs)) for path in paths]


def verify_pdf(session: Session, path: str, certs: list[Any]) -> list[str]:
    """Problems with one exported PDF against the database ([] when it is genuine), given
    the certificates `keys.recorded` trusts; each message is about the file, which the
    caller names."""
    # pypdf is loaded by `verify --pdf` only: no other command reads a PDF.
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            return ["not a regular file"]  # a FIFO or a device would be read forever
        if info.st_size > MAX_PDF_BYTES:
            return [f"{info.st_size / 2**20:,.0f} MB: larger than any record or report"]
        with open(path, "rb") as fh:
            data = fh.read()
        reader = PdfReader(io.BytesIO(data))
        meta: dict[str, Any] = reader.metadata or {}
        got = [page.extract_text() or "" for page in reader.pages]
        pages_text = "\n".join(got)
    except (OSError, PdfReadError, ValueError) as exc:
        return [f"not a readable PDF ({exc})"]
    except Exception as exc:  # noqa: BLE001 - a damaged PDF makes the reader raise anything
        return [f"not a readable PDF ({type(exc).__name__})"]
    try:
        return _verify_read_pdf(session, data, reader, got, pages_text, meta, certs)
    except Exception as exc:  # noqa: BLE001 - a database edited by hand: named, not a crash
        return [f"cannot be compared with the stored decision ({type(exc).__name__}: {exc}): the "
                "database holds a value Reviewer never wrote; run `reviewer verify`"]  # fmt: skip


def _verify_read_pdf(session: Session, data: bytes, reader: Any, got: list[str], pages_text: str,
                     meta: dict[str, Any], certs: list[Any]) -> list[str]:  # fmt: skip
    problems = []
    signed_ok = False
    signature_problems: list[str] = []
    signer: str | None = None
    if certs or b"/ByteRange" in data:
        from reviewer.export.signing import check_signature

        check = check_signature(data, [c.cert for c in certs])
        signature_problems, signer = check.problems, check.signer_fingerprint
        signed_ok = bool(certs) and not signature_problems
    keywords = str(meta.get("/Keywords", ""))
    report = REPORT_KEYWORDS.fullmatch(keywords)
    if report is not None:
        if not signed_ok:  # its figures cannot be counted again later: only a signature vouches
            return signature_problems or ["not signed: a report's figures are vouched for by the "
                                          "organisation's signature only"]  # fmt: skip
        return _report_problems(session, int(report.group(1)), report.group(2), pages_text)
    m = RECORD_KEYWORDS.fullmatch(keywords)
    if not m:
        return [*signature_problems, "its metadata keywords are neither a record's nor a report's"]
    digest, layout = m.group(1), int(m.group(2) or 1)
    flat = _collapse(pages_text)
    if not signed_ok and signature_problems == ["not signed"] and _exported_before_signing(
        session, flat, certs
    ):  # fmt: skip
        signature_problems = []  # exported before the organisation had a key: pages still compared
    problems += signature_problems
    if digest not in flat.replace(" ", ""):
        return [*problems, "the record hash printed in the text differs from the metadata"]
    found = session.execute(select(Decision).where(Decision.record_hash == digest)).scalars().all()
    if len(found) > 1:
        return [*problems, f"record hash {digest[:16]}... belongs to {len(found)} decisions in this "
                "database (it was changed: run `reviewer verify`)"]  # fmt: skip
    decision = found[0] if found else None
    if decision is None:
        return [*problems, f"record hash {digest[:16]}... is not in this database"]
    req = session.get(Request, decision.request_id)
    assert req is not None
    if rq.sha256_hex(decision.snapshot) != decision.snapshot_sha256:
        return [*problems, "the request snapshot stored with the decision differs from its SHA-256 "
                "(the database was changed after the decision: run `reviewer verify`)"]  # fmt: skip
    if record_hash(session, decision, req.reference) != digest:
        problems.append("the decision in the database no longer matches its record hash "
                        "(changed after export)")  # fmt: skip
    record = decision_record(session, decision.id)
    problems += _compare_rendering(session, reader, got, meta, flat, record, layout, signed_ok)
    printed = re.search(r"Signedbycertificate\(SHA-256\)([0-9a-f]{64})", flat.replace(" ", ""))
    if signer is not None and (printed is None or printed.group(1) != signer):
        problems.append("the certificate it prints is not the one that signed it")
    checks = {
        "reference": record["reference"],
        "outcome": Outcome(record["outcome"]).label,
        "decider": f"{record['decider']} ({roles_text(record['decider_roles'])})",
        "justification": record["justification"],
    }
    if record["checker"]:
        checks["checker"] = f"{record['checker']} ({roles_text(record['checker_roles'])})"
    for what, expected in checks.items():
        if _collapse(expected) not in flat:
            problems.append(f"the printed {what} differs from the record")
    return problems


def _exported_before_signing(session: Session, flat: str, certs: list[Any]) -> bool:
    """An unsigned record whose printed chain head comes before the first certificate was
    recorded: exported before the organisation had a key, so unsigned is no fault of its own
    (its pages are compared all the same)."""
    m = re.search(r"Chainheadatexport(\d+):", flat.replace(" ", ""))
    if m is None or not certs:
        return False
    first = session.execute(
        select(func.min(AuditEvent.seq)).where(AuditEvent.action == "settings",
                                               AuditEvent.payload.contains(CERTIFICATE_PREFIX))
    ).scalar_one_or_none()  # fmt: skip
    return first is not None and int(m.group(1)) < first


def _export_values(session: Session, meta: dict[str, Any], flat: str, record: dict[str, Any]
                   ) -> tuple[dict[str, Any], list[str]]:  # fmt: skip
    """The values a record took at its export, read from the PDF (the chain head, the
    organisation name, the certificate), each checked against the database's chain."""
    problems = []
    dense = flat.replace(" ", "")
    m = re.search(r"Chainheadatexport(\d+):([0-9a-f]{64})", dense)
    values: dict[str, Any] = {}
    if m is None:
        problems.append("no chain head printed")
    else:
        seq, digest = int(m.group(1)), m.group(2)
        event = session.execute(select(AuditEvent).where(AuditEvent.seq == seq)).scalar_one_or_none()
        if event is None or event.hash != digest or seq < (record["event_seq"] or 0):
            problems.append(f"the chain head it prints ({seq}:{digest[:16]}...) is not this database's")
        values["head_seq"], values["head_hash"] = seq, digest
        t = re.search(r"Exportedat(\d{4}-\d{2}-\d{2})(\d{2}:\d{2})UTC", dense)
        if t is None:
            problems.append("no export time printed")
        else:
            values["exported_at"] = f"{t.group(1)}T{t.group(2)}:00.000000Z"
            # Exported after the chain head it prints was written, and not in the future.
            if event is not None and values["exported_at"][:16] < event.time[:16]:
                problems.append(f"its export time ({t.group(1)} {t.group(2)} UTC) is before the "
                                f"chain head it prints ({seq}) was written")  # fmt: skip
            if values["exported_at"][:16] > utc_now()[:16]:
                problems.append(f"its export time ({t.group(1)} {t.group(2)} UTC) is in the future")
        organisation = ORG_SETTINGS["organisation_name"].default
        for (payload,) in session.execute(
            select(AuditEvent.payload).where(AuditEvent.action == "settings", AuditEvent.seq <= seq)
            .order_by(AuditEvent.seq)
        ):  # fmt: skip
            change = json.loads(payload)
            if change.get("key") == "organisation_name":
                organisation = change["value"]
        values["organisation"] = organisation
        if str(meta.get("/Author", "")) != organisation:
            problems.append("the organisation it names is not the one the audit trail had at its export")
    c = re.search(r"Signedbycertificate\(SHA-256\)([0-9a-f]{64})", dense)
    values["certificate"] = c.group(1) if c else None
    return values, problems


def _compare_rendering(session: Session, reader: Any, got: list[str], meta: dict[str, Any],
                       flat: str, record: dict[str, Any], made_by: int, signed_ok: bool
                       ) -> list[str]:  # fmt: skip
    """The record's whole printed content against a rendering of the stored decision with
    the export-time values read from the PDF: page count, every page's text, and the
    metadata title, subject and keywords. A stamped, added, removed or re-rendered page is
    named. A record of an earlier layout (an earlier version of Reviewer) cannot be rendered
    again: a valid signature by one of the organisation's certificates vouches for it."""
    from pypdf import PdfReader

    from reviewer.export.pdf import RENDERER, render_bytes

    if made_by > RENDERER:
        return [f"made by a later version of Reviewer (layout {made_by}; this one has {RENDERER}): "
                "check it with that version"]  # fmt: skip
    if made_by < RENDERER:  # an earlier layout: its signature vouches for the pages
        if signed_ok:
            return []
        return [f"made with an earlier layout ({made_by}), which this version cannot render page "
                "by page, and not validly signed: its pages cannot be checked"]  # fmt: skip
    values, problems = _export_values(session, meta, flat, record)
    if problems:
        return problems
    expected = PdfReader(io.BytesIO(render_bytes({**record, **values})))
    if len(expected.pages) != len(got):
        problems.append(f"{len(got)} pages, the stored decision renders to {len(expected.pages)}")
    problems += _document_extras(reader)
    for i, (page, mine) in enumerate(zip(reader.pages, expected.pages, strict=False), 1):
        if _page_setup(page) != _page_setup(mine):
            problems.append(
                f"page {i} is set up otherwise than the record (boxes, rotation, "
                "annotations or fonts): a reader may show what its text does not say"
            )
        # The renderer is deterministic: a page drawn by the same instructions prints the same
        # text, and only a page drawn otherwise has its text extracted and compared.
        if _drawn(page) == _drawn(mine):
            continue
        if _collapse(got[i - 1]) != _collapse(mine.extract_text() or ""):
            problems.append(f"page {i} differs from a rendering of the stored decision")
    wanted_meta: Any = expected.metadata or {}
    for key in ("/Title", "/Subject", "/Keywords"):
        if str(meta.get(key, "")) != str(wanted_meta.get(key, "")):
            problems.append(f"its metadata {key[1:].lower()} differs from the record")
    return problems


def _report_problems(session: Session, seq: int, digest: str, text: str) -> list[str]:
    """A transparency report counts what the database held when it was made (current statuses
    then), so it cannot be made again later: its signature vouches for its figures (checked
    before), and the chain head it was made at, in its metadata and its text, must be this
    database's."""
    if f"{seq}:{digest}" not in _collapse(text).replace(" ", ""):
        return ["the chain head printed in the report differs from its metadata"]
    event = session.execute(select(AuditEvent).where(AuditEvent.seq == seq)).scalar_one_or_none()
    if (event.hash if event is not None else GENESIS if seq == 0 else None) != digest:
        return [f"the chain head it was made at ({seq}:{digest[:16]}...) is not this database's"]
    return []


def _page_setup(page: Any) -> tuple[Any, ...]:
    """What a page shows besides its drawing instructions: its boxes and rotation, the fonts
    its text is set in, and its annotations (but for the signature's invisible field)."""
    boxes = tuple(str(page.get(k)) for k in ("/MediaBox", "/CropBox", "/TrimBox", "/ArtBox", "/BleedBox",
                                             "/Rotate", "/UserUnit"))  # fmt: skip
    fonts = page.get("/Resources", {}).get_object().get("/Font", {}).get_object()
    names = tuple(sorted((str(k), str(f.get_object().get("/BaseFont"))) for k, f in fonts.items()))
    annotations = []
    for ref in page.get("/Annots", []) or []:
        annot = ref.get_object()
        if annot.get("/FT") == "/Sig" and annot.get("/Subtype") == "/Widget":
            continue  # the record's own signature field
        annotations.append(str(annot.get("/Subtype")))
    return boxes, names, tuple(annotations)


def _document_extras(reader: Any) -> list[str]:
    """Actions, scripts or attached files a record never carries."""
    root = reader.trailer["/Root"].get_object()
    names = root.get("/Names", {}).get_object() if "/Names" in root else {}
    found = [k[1:] for k in ("/OpenAction", "/AA") if k in root]
    found += [k[1:] for k in ("/JavaScript", "/EmbeddedFiles") if k in names]
    return [f"it carries what a record never does: {', '.join(found)}"] if found else []


def _drawn(page: Any) -> bytes | None:
    """A page's drawing instructions (its decompressed content), None when it has none."""
    contents = page.get_contents()
    return None if contents is None else bytes(contents.get_data())


def verify_pdf_offline(path: str, cert: str) -> list[str]:
    """What can be checked without the database: the signature, against the organisation's
    certificate given as a PEM file or as its SHA-256 fingerprint."""
    from reviewer.export.signing import check_signature, embedded_certificate, load_pem

    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        return [f"cannot read: {exc.strerror or exc}"]
    wanted = cert.strip().lower().replace(":", "")
    if re.fullmatch(r"[0-9a-f]{64}", wanted):
        first = check_signature(data, [])
        if first.signer_fingerprint is None:
            return first.problems
        if first.signer_fingerprint != wanted:
            return [f"signed with certificate {first.signer_fingerprint[:16]}..., not {wanted[:16]}..."]
        trusted = [embedded_certificate(data)]
    else:
        try:
            with open(cert, encoding="ascii") as fh:
                trusted = [load_pem(fh.read())]
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInput(
                [f"{cert}: neither a PEM certificate file nor a SHA-256 fingerprint ({exc})"]
            ) from exc
    return check_signature(data, trusted).problems
