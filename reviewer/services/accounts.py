"""Accounts and roles (`workflow.md`, "Roles"): who may act, and the admin's changes to that.

The first account of a database is made by `bootstrap` (SQLite, the first writing command)
or `initialise` (`db init --admin LOGIN`, a team database); every later change is an admin's,
and each one is an audit event.

On PostgreSQL (team mode) a login cannot write accounts or roles: after the same checks as on
SQLite, the change goes through the database's admin function for it (migration 0004), which
checks again that the caller is an active admin, makes the change from the event's payload,
gives or takes away the login's membership of the group role (its database rights) and appends
the event, in the caller's transaction.
"""

from __future__ import annotations

from typing import Protocol, TypedDict

from sqlalchemy import func, select
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Session

from reviewer.errors import InvalidInput, NotFound, NotPermitted
from reviewer.models import Account, AccountRole, RuleSetState, RuleSetVersion
from reviewer.rules import load_bundled
from reviewer.services.audit import Actor, Chain, utc_now
from reviewer.vocabulary import ROLES, Role

FIRST_ROLES = sorted(Role.values())  # the first account has every role


class AccountInfo(TypedDict):
    name: str
    roles: list[str]
    active: bool
    created_at: str


class DatabaseInfo(Protocol):
    """What `initialise` needs to know of the database it initialises."""

    @property
    def is_sqlite(self) -> bool: ...

    def describe(self) -> str: ...

    def login_exists(self, name: str) -> bool: ...


def team_mode(session: Session) -> bool:
    """PostgreSQL: authority tables are written only through the database's functions."""
    return session.get_bind().dialect.name == "postgresql"


def find_account(session: Session, name: str) -> Account | None:
    return session.execute(select(Account).where(Account.name == name)).scalar_one_or_none()


def require_account(session: Session, actor: Actor) -> Account:
    """The actor's active account, or NotPermitted saying how to get one."""
    account = find_account(session, actor.name)
    if account is None or not account.active:
        if session.execute(select(Account.id).limit(1)).first() is None:
            raise NotPermitted("the database has no accounts yet: its owner runs "
                               "`reviewer db init --admin LOGIN` first")  # fmt: skip
        raise NotPermitted(
            f"no active account named {actor.name!r}: an admin can add it with "
            f"`reviewer users add {actor.name} --role reviewer`"
        )
    return account


def require_admin(session: Session, actor: Actor, what: str) -> Account:
    """The actor's account if it is an admin's; `what` completes "only an admin ..."."""
    account = require_account(session, actor)
    if Role.ADMIN not in account.role_names:
        raise NotPermitted(f"{actor.name} is not an admin: only an admin {what}")
    return account


def has_accounts(session: Session) -> bool:
    return session.execute(select(func.count()).select_from(Account)).scalar_one() > 0


def initialise(session: Session, actor: Actor, admin: str, db: DatabaseInfo) -> None:
    """`db init --admin LOGIN`: the first account of a database that has none."""
    if has_accounts(session):
        raise InvalidInput([f"{db.describe()} is already initialised (it has accounts)"])
    if not db.is_sqlite and not db.login_exists(admin):
        raise NotFound(f"no database login named {admin!r}: create it first (see the README)")
    if not db.is_sqlite and admin == actor.name:
        raise NotPermitted(f"{admin} owns the database and cannot be an account: name the "
                           "login of the first admin")  # fmt: skip
    bootstrap(session, actor, admin)


def bootstrap(session: Session, actor: Actor, admin: str | None = None) -> None:
    """A new database: the first account (admin, senior, reviewer) and the bundled rule set,
    activated by one audited bootstrap event."""
    now = utc_now()
    account = Account(name=admin or actor.name, active=True, created_at=now)
    account.roles = [AccountRole(role=r) for r in FIRST_ROLES]
    session.add(account)
    ruleset = load_bundled()
    row = RuleSetVersion(
        rule_set_id=ruleset.id, version=ruleset.version, title=ruleset.title,
        effective_on=ruleset.effective_on, sha256=ruleset.sha256, content=ruleset.source_text,
        state=RuleSetState.ACTIVE, imported_by=actor.name, imported_at=now,
        approved_by=actor.name, approved_at=now,
    )  # fmt: skip
    session.add(row)
    session.flush()
    # On PostgreSQL the owner writes these rows itself; the function checks it is the owner
    # and this the only account, and makes the login a member of the group role.
    via = "_reviewer_bootstrap" if team_mode(session) else "append_event"
    with Chain(session, actor) as chain:
        chain.append(
            "bootstrap", None,
            {"account": account.name, "roles": FIRST_ROLES,
             "rule_set": ruleset.key, "rule_set_sha256": ruleset.sha256},
            time=now, via=via,
        )  # fmt: skip


def _check_roles(roles: list[str]) -> None:
    bad = [r for r in roles if r not in ROLES]
    if bad:
        raise InvalidInput([f"unknown role {bad[0]!r}: roles are {', '.join(ROLES)}"])


def add_user(session: Session, actor: Actor, name: str, roles: list[str]) -> Account:
    require_admin(session, actor, "manages accounts")
    _check_roles(roles)
    if not roles:
        raise InvalidInput(["an account needs at least one role (--role)"])
    if not name.strip() or len(name) > 128:
        raise InvalidInput(["an account name is 1 to 128 characters"])
    if find_account(session, name) is not None:
        raise InvalidInput([f"an account named {name!r} already exists"])
    bind = session.get_bind()
    if (
        bind.dialect.name == "postgresql"
        and session.execute(
            sql_text("SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = :n AND rolcanlogin"),
            {"n": name},
        ).first()
        is None
    ):
        raise NotFound(f"no database login named {name!r}: accounts map existing logins; "
                       "create the login first (see the README, Team mode)")  # fmt: skip
    payload = {"account": name, "roles": sorted(set(roles))}
    if team_mode(session):
        with Chain(session, actor) as chain:
            chain.append("users_add", None, payload, via="admin_add_account")
        return _account(session, name)
    account = Account(name=name, active=True, created_at=utc_now())
    account.roles = [AccountRole(role=r) for r in sorted(set(roles))]
    session.add(account)
    session.flush()
    with Chain(session, actor) as chain:
        chain.append("users_add", None, payload)
    return account


def _active_admins(session: Session) -> int:
    return session.execute(
        select(func.count()).select_from(Account).join(AccountRole)
        .where(Account.active.is_(True), AccountRole.role == Role.ADMIN.value)
    ).scalar_one()  # fmt: skip


def _account(session: Session, name: str) -> Account:
    account = find_account(session, name)
    if account is None:
        raise NotFound(f"no account named {name!r}")
    return account


def change_role(session: Session, actor: Actor, name: str, add: str | None, remove: str | None
                ) -> Account:  # fmt: skip
    require_admin(session, actor, "manages accounts")
    account = _account(session, name)
    role = add or remove
    if role is None:
        raise InvalidInput(["give a role to add or to remove"])
    _check_roles([role])
    have = set(account.role_names)
    if add:
        if add in have:
            raise InvalidInput([f"{name} already has the role {add}"])
    else:
        if remove not in have:
            raise InvalidInput([f"{name} does not have the role {remove}"])
        if remove == Role.ADMIN and _active_admins(session) <= 1:
            raise NotPermitted("the last active admin cannot lose the admin role")
    if team_mode(session):
        roles = sorted(have | {add} if add else have - {remove})
        with Chain(session, actor) as chain:
            chain.append("users_role", None, {"account": name, "add": add, "remove": remove,
                                              "roles": roles}, via="admin_change_roles")  # fmt: skip
        session.refresh(account)
        return account
    if add:
        account.roles.append(AccountRole(role=add))
    else:
        account.roles = [r for r in account.roles if r.role != remove]
    session.flush()
    with Chain(session, actor) as chain:
        chain.append("users_role", None, {"account": name, "add": add, "remove": remove,
                                          "roles": account.role_names})  # fmt: skip
    return account


def disable_user(session: Session, actor: Actor, name: str) -> Account:
    require_admin(session, actor, "manages accounts")
    account = _account(session, name)
    if not account.active:
        raise InvalidInput([f"{name} is already disabled"])
    if Role.ADMIN in account.role_names and _active_admins(session) <= 1:
        raise NotPermitted("the last active admin cannot be disabled")
    if team_mode(session):
        with Chain(session, actor) as chain:
            chain.append("users_disable", None, {"account": name}, via="admin_disable_account")
        session.refresh(account)
        return account
    account.active = False
    with Chain(session, actor) as chain:
        chain.append("users_disable", None, {"account": name})
    return account


def list_users(session: Session) -> list[AccountInfo]:
    accounts = session.execute(select(Account).order_by(Account.name)).scalars()
    return [AccountInfo(name=a.name, roles=a.role_names, active=a.active,
                        created_at=a.created_at) for a in accounts]  # fmt: skip


def account_roles(session: Session, name: str) -> list[str] | None:
    """The roles of an active account, None when there is no such account."""
    account = find_account(session, name)
    return account.role_names if account is not None and account.active else None
