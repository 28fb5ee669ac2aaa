"""Organisation settings (declared in `vocabulary.ORG_SETTINGS`): stored in the database so a
team shares them, changed only by an admin, each change an audit event."""

from __future__ import annotations

from sqlalchemy.orm import Session

from reviewer.errors import InvalidInput, NotFound, NotPermitted
from reviewer.models import Setting
from reviewer.services.accounts import find_account, require_admin, team_mode
from reviewer.services.audit import Actor, Chain, utc_now
from reviewer.vocabulary import ORG_SETTINGS, OrgSetting, Role, certificate_setting

# Settings that hold a whole number, and its bounds.
WHOLE_NUMBERS: dict[str, tuple[int, int]] = {
    "max_import_mb": (1, 4096),
    "max_attachment_mb": (1, 1024),
    "service_level_days": (1, 365),
}


def _declared(key: str) -> OrgSetting:
    try:
        return ORG_SETTINGS[key]
    except KeyError:
        cert = certificate_setting(key)
        if cert is not None:
            return cert
        raise NotFound(f"no setting {key!r}; settings are {', '.join(ORG_SETTINGS)}") from None


def get_setting(session: Session, key: str) -> str:
    declared = _declared(key)
    row = session.get(Setting, key)
    return row.value if row else declared.default


def is_set(session: Session, key: str) -> bool:
    return session.get(Setting, key) is not None


UNNAMED = ("the organisation name is not set, so records print \"{default}\" at their top: an admin "
           "sets it with `reviewer settings set organisation_name NAME` (or in the window)")  # fmt: skip


def unset_for_admin(session: Session, actor: Actor, key: str) -> bool:
    """True when the setting was never set and the actor is an admin, who can set it (the
    window asks an admin for the organisation name instead of printing the default)."""
    if is_set(session, key):
        return False
    account = find_account(session, actor.name)
    return account is not None and account.active and Role.ADMIN in account.role_names


def set_setting(session: Session, actor: Actor, key: str, value: str, internal: bool = False) -> str:
    """Change a setting; returns the value stored (trimmed). Certificates are recorded only
    by `reviewer keys` (`internal`), which checks them."""
    require_admin(session, actor, "changes settings")
    declared = _declared(key)
    if certificate_setting(key) is not None and not internal:
        raise NotPermitted(f"{key}: signing certificates are recorded by `reviewer keys init` "
                           "or `reviewer keys import`")  # fmt: skip
    value = value.strip()
    if not value or len(value) > declared.max_len or "\x00" in value:
        raise InvalidInput([f"{key}: 1 to {declared.max_len} characters"])
    if key in WHOLE_NUMBERS:
        low, high = WHOLE_NUMBERS[key]
        if not (value.isascii() and value.isdigit()) or not low <= int(value) <= high:
            raise InvalidInput([f"{key}: a whole number from {low} to {high}, got {value!r}"])
        value = str(int(value))
    now = utc_now()
    if team_mode(session):  # PostgreSQL: the database's admin function writes the row
        with Chain(session, actor) as chain:
            chain.append("settings", None, {"key": key, "value": value}, time=now,
                         via="admin_set_setting")  # fmt: skip
        return value
    row = session.get(Setting, key)
    if row is None:
        session.add(Setting(key=key, value=value, updated_by=actor.name, updated_at=now))
    else:
        row.value, row.updated_by, row.updated_at = value, actor.name, now
    with Chain(session, actor) as chain:
        chain.append("settings", None, {"key": key, "value": value}, time=now)
    return value
