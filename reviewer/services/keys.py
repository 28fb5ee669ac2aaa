"""The organisation's signing key: made or imported on a workstation, its certificate recorded
in the database by an audited admin event (a `settings` event for `signing_cert.<digest>`),
so every workstation of a team verifies records against the same certificates. The key file
stays in the config folder with owner-only permissions; its passphrase comes from
`REVIEWER_KEY_PASSPHRASE` or a prompt, never from the database.

pyHanko and cryptography are loaded here only when a key is made, read or used
(`reviewer.export.signing`)."""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from reviewer import settings
from reviewer.errors import ConflictError, EnvironmentProblem, InvalidInput, NotFound
from reviewer.models import AuditEvent, Setting
from reviewer.services.accounts import require_admin
from reviewer.services.audit import Actor
from reviewer.services.settings import get_setting, set_setting
from reviewer.vocabulary import CERTIFICATE_PREFIX

MAX_P12_BYTES = 1_000_000


def _signing() -> Any:
    # pyHanko and cryptography: only the commands that sign or verify records load them.
    from reviewer.export import signing

    return signing


@dataclass
class Recorded:
    fingerprint: str
    subject: str
    not_after: str
    cert: Any  # the parsed certificate (cryptography's x509.Certificate)


def recorded(session: Session) -> list[Recorded]:
    """Every certificate recorded in the database, oldest first by key: only those the audit
    trail vouches for (the last settings event of the key holds the same PEM), so a row
    written into the table by hand is never trusted (`reviewer verify` names it)."""
    audited: dict[str, str] = {}
    for (payload,) in session.execute(
        select(AuditEvent.payload).where(AuditEvent.action == "settings",
                                         AuditEvent.payload.contains(CERTIFICATE_PREFIX))
        .order_by(AuditEvent.seq)
    ):  # fmt: skip
        try:
            change = json.loads(payload)
            audited[str(change["key"])] = str(change["value"])
        except (ValueError, KeyError, TypeError):
            continue  # a damaged event: verify names it
    out = []
    rows = session.execute(
        select(Setting).where(Setting.key.startswith(CERTIFICATE_PREFIX)).order_by(Setting.key)
    ).scalars()
    for row in rows:
        if not isinstance(row.value, str) or audited.get(row.key) != row.value:
            continue  # not what the audit trail recorded: not trusted, and verify names it
        signing = _signing()  # loaded only when there is a certificate to parse
        try:
            cert = signing.load_pem(row.value)
        except InvalidInput:
            continue  # edited outside Reviewer: not trusted, and verify names the setting
        digest = signing.fingerprint(cert)
        if not row.key.endswith(digest[:48]):
            continue  # a row whose name is not its certificate's: verify names it
        out.append(Recorded(digest, cert.subject.rfc4514_string(),
                            cert.not_valid_after_utc.strftime("%Y-%m-%d"), cert))  # fmt: skip
    return out


def _write_private(path: Path, data: bytes) -> None:
    """Write the key file owner-only (0600, its folder 0700), whole or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    os.chmod(path, 0o600)


def _record(session: Session, actor: Actor, pem: str) -> str:
    signing = _signing()
    digest = signing.fingerprint(signing.load_pem(pem))
    set_setting(session, actor, CERTIFICATE_PREFIX + digest[:48], pem, internal=True)
    return str(digest)


def init(session: Session, actor: Actor, passphrase: bytes, new: bool = False) -> str:
    """Make a key and a self-signed certificate for the organisation, and record the
    certificate (admin). An existing key is replaced only with `new` (rotation): its
    certificate stays recorded, so records signed with it keep verifying."""
    require_admin(session, actor, "makes the organisation's signing key")
    path = settings.signing_key_file()
    if path.exists() and not new:
        raise ConflictError(f"{path}: a signing key exists already; `reviewer keys init --new` makes "
                            "a new one (records signed with the old one keep verifying)")  # fmt: skip
    if len(passphrase) < 8:
        raise InvalidInput(["the key passphrase needs at least 8 characters"])
    data, cert = _signing().make_key(get_setting(session, "organisation_name"), passphrase)
    digest = _record(session, actor, _signing().pem_of(cert))
    _write_private(path, data)
    return digest


def import_key(session: Session, actor: Actor, source: str, passphrase: bytes) -> str:
    """Take a PKCS#12 file issued by the organisation's CA (admin): it is checked with the
    passphrase, kept in the config folder, and its certificate recorded."""
    require_admin(session, actor, "imports the organisation's signing key")
    try:
        info = os.stat(source)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_P12_BYTES:
            raise InvalidInput([f"{source}: not a PKCS#12 file of at most {MAX_P12_BYTES:,} bytes"])
        data = Path(source).read_bytes()
    except OSError as exc:
        raise InvalidInput([f"{source}: cannot read: {exc}"]) from exc
    key = _signing().load_key(data, passphrase, source)
    digest = _record(session, actor, _signing().pem_of(key.cert))
    _write_private(settings.signing_key_file(), data)
    return digest


def passphrase_from_environment() -> bytes | None:
    value = os.environ.get(settings.ENV_KEY_PASSPHRASE)
    return value.encode("utf-8") if value else None


def load(passphrase: bytes) -> Any:
    """The workstation's key (`signing.Key`), or NotFound when there is none."""
    path = settings.signing_key_file()
    if not path.exists():
        raise NotFound(f"no signing key on this workstation ({path}): an admin runs "
                       "`reviewer keys init` (or `reviewer keys import FILE.p12`)")  # fmt: skip
    mode = path.stat().st_mode
    if mode & 0o077:
        raise EnvironmentProblem(f"{path}: readable by others (mode {stat.filemode(mode)}); "
                                 f"chmod 600 {path}")  # fmt: skip
    return _signing().load_key(path.read_bytes(), passphrase, str(path))


def has_key() -> bool:
    return settings.signing_key_file().exists()
