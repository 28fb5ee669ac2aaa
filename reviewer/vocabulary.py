"""Every vocabulary of Reviewer, declared once: statuses, recommendations, outcomes, condition
and rule-set states, roles and queue views, each member with its label, colour and one-line
explanation; the organisation settings; and the label of every request field.

The models store the enum values, the CLI offers them as choices, and the window and the PDF
print their labels: none of them spells a member out again.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Self


class Term(enum.StrEnum):
    """A stored value with the words people read for it."""

    label: str
    colour: str
    explanation: str

    def __new__(cls, value: str, *words: str) -> Self:
        # The words (label, colour, explanation) as `*words`: mypy takes this signature for a
        # lookup by value too (`Status("new")`, python/mypy#10573).
        member = str.__new__(cls, value)
        member._value_ = value
        member.label, member.colour, member.explanation = words
        return member

    @classmethod
    def values(cls) -> list[str]:
        return [m.value for m in cls]

    @classmethod
    def label_of(cls, value: str) -> str:
        """The label of a stored value; a value no longer declared is shown as it is."""
        try:
            return cls(value).label
        except ValueError:
            return value


class Status(Term):
    NEW = ("new", "New", "#475467", "Waiting for a reviewer to claim it.")
    IN_REVIEW = ("in_review", "In review", "#175cd3", "Claimed by a reviewer, who decides it.")
    AWAITING_SECOND = ("awaiting_second", "Awaiting check", "#9a6700",
                       "Decided; a second account must confirm or reject the decision.")  # fmt: skip
    DECIDED = ("decided", "Decided", "#1b7f3b", "The decision is final.")
    RETURNED = ("returned", "Returned", "#6941c6",
                "Sent back to sales for information; a new version reopens it.")  # fmt: skip


class Recommendation(Term):
    """What the rule set recommends, most severe first (the rank order of `ruleset.md`)."""

    REFUSE = ("refuse", "Refuse", "#b42318", "A rule refuses the request.")
    NEEDS_INFORMATION = ("needs_information", "Needs information", "#6941c6",
                         "Facts the rules need are unknown: ask sales for them.")  # fmt: skip
    ESCALATE_SENIOR = ("escalate_senior", "Senior decides", "#c4320a",
                       "A senior decides and a different account checks.")  # fmt: skip
    ESCALATE_SECOND = ("escalate_second", "Second check", "#9a6700",
                       "A different account checks the decision.")  # fmt: skip
    CONDITIONS = ("conditions", "With conditions", "#175cd3",
                  "Approvable with the conditions the rules add.")  # fmt: skip
    APPROVE = ("approve", "Approve", "#1b7f3b", "No rule stands in the way.")


class Outcome(Term):
    APPROVE = ("approve", "Approved", "#1b7f3b", "The request is approved as asked.")
    APPROVE_WITH_CONDITIONS = ("approve_with_conditions", "Approved with conditions", "#9a6700",
                               "Approved; the conditions are obligations of the contract.")  # fmt: skip
    REFUSE = ("refuse", "Refused", "#b42318", "The request is refused.")
    RETURN_FOR_INFORMATION = ("return_for_information", "Returned for information", "#475467",
                              "Sent back to sales for the facts the decision needs.")  # fmt: skip


class ConditionStatus(Term):
    OPEN = ("open", "Open", "#175cd3", "The obligation is still to be met.")
    MET = ("met", "Met", "#1b7f3b", "The obligation was met.")
    LAPSED = ("lapsed", "Lapsed", "#b42318", "The obligation was not met in time.")


class RuleSetState(Term):
    DRAFT = ("draft", "Draft", "#475467", "Imported; not yet proposed.")
    PROPOSED = ("proposed", "Proposed", "#9a6700",
                "Proposed by one admin with its backtest; a different admin activates it.")  # fmt: skip
    ACTIVE = ("active", "Active", "#1b7f3b", "The rule set every evaluation uses now.")
    RETIRED = ("retired", "Retired", "#98a2b3", "Replaced by a later version.")


class Role(Term):
    REVIEWER = ("reviewer", "Reviewer", "#175cd3", "Claims, decides and checks requests.")
    SENIOR = ("senior", "Senior", "#c4320a",
              "Decides escalated requests, takes over claims and reopens decisions.")  # fmt: skip
    ADMIN = ("admin", "Admin", "#475467", "Manages accounts, settings and rule sets.")


class View(Term):
    """The queue's views."""

    ALL = ("all", "All requests", "#475467", "Every request the filters select.")
    MINE = ("mine", "Mine", "#175cd3", "Requests assigned to you.")
    AWAITING_MY_CHECK = ("awaiting my check", "Awaiting my check", "#9a6700",
                         "Decisions of others that you may check.")  # fmt: skip
    CONDITIONS_OVERDUE = ("conditions overdue", "Conditions overdue", "#b42318",
                          "Decided requests with an open condition past its due date.")  # fmt: skip
    REREVIEW_DUE = ("re-review due", "Re-review due", "#c4320a",
                    "Approvals whose re-review date has come or whose conditions are overdue.")  # fmt: skip
    PAST_SERVICE_LEVEL = ("past service level", "Past service level", "#b42318",
                          "Requests waiting on us longer than the service level allows.")  # fmt: skip


ROLES = tuple(Role.values())
FINDING_OUTCOMES = Recommendation  # a finding's outcome is one of the recommendations


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class OrgSetting:
    """An organisation setting: stored in the database, shared by a team, changed by admins."""

    key: str
    label: str
    default: str
    explanation: str
    max_len: int = 300


CERTIFICATE_PREFIX = "signing_cert."
"""Settings `signing_cert.<the first 48 hex digits of its SHA-256>` hold the PEM of each
certificate the organisation's records were signed with (the key never leaves the
workstation; `reviewer keys`)."""


def certificate_setting(key: str) -> OrgSetting | None:
    if key.startswith(CERTIFICATE_PREFIX) and len(key) == len(CERTIFICATE_PREFIX) + 48:
        return OrgSetting(key, "Signing certificate", "", "A certificate records are signed with.",
                          max_len=16_000)  # fmt: skip
    return None


ORG_SETTINGS: dict[str, OrgSetting] = {
    s.key: s
    for s in (
        OrgSetting(
            "organisation_name", "Organisation name", "Reviewer", "Printed at the top of every PDF record."
        ),  # fmt: skip
        OrgSetting(
            "max_import_mb",
            "Import size limit (MB)",
            "256",
            "The largest request file an import reads, in megabytes: a whole number "
            "from 1 to 4096. A larger file is refused before anything is read.",
        ),
        OrgSetting(
            "max_attachment_mb",
            "Attachment size limit (MB)",
            "25",
            "The largest file that may be attached to a request, in megabytes: a whole number "
            "from 1 to 1024. A larger file is refused before anything is read.",
        ),
        OrgSetting(
            "service_level_days",
            "Service level (working days)",
            "10",
            "How many working days (Monday to Friday) a request may wait on the review team "
            "before the queue flags it: a whole number from 1 to 365.",
        ),
    )
}


# --------------------------------------------------------------------------- field labels

FIELD_LABELS: dict[str, str] = {
    "format": "Format",
    "reference": "Reference",
    "received_on": "Received on",
    "title": "Title",
    "sales.owner": "Sales owner",
    "sales.product": "Product",
    "sales.contract_value": "Contract value",
    "sales.currency": "Currency",
    "customer.name": "Customer name",
    "customer.country": "Customer country",
    "customer.region": "Customer region",
    "customer.city": "Customer city",
    "customer.org_type": "Organisation type",
    "customer.sector": "Sector",
    "customer.is_reseller": "Reseller",
    "customer.contact_email": "Contact e-mail",
    "end_users": "End users",
    "use.use_case": "Use case",
    "use.operations": "Operations",
    "use.real_time": "Real time",
    "use.camera_type": "Camera type",
    "use.environment": "Environment",
    "use.context": "Context",
    "use.law_enforcement_purpose": "Law-enforcement purpose",
    "use.subject_already_apprehended": "Subject already apprehended",
    "use.tracks_individuals": "Tracks individuals",
    "use.targets_protected_groups": "Targets protected groups",
    "use.monitored_events": "Monitored events",
    "use.captures_protected_spaces": "Captures protected spaces",
    "use.decision_effects": "Decision effects",
    "use.accessibility_scenario": "Accessibility scenario",
    "use.description": "Description",
    "people.includes_minors": "Includes minors",
    "people.mostly_over_65": "Mostly over 65",
    "people.enrollment_basis": "Enrolment basis",
    "scale.enrolled_identities": "Enrolled identities",
    "scale.identifications_per_day": "Identifications per day",
    "scale.people_scanned_per_day": "People scanned per day",
    "scale.cameras": "Cameras",
    "scale.sites": "Sites",
    "scale.countries": "Countries",
    "scale.coverage": "Coverage",
    "data.gallery_sources": "Gallery sources",
    "data.retention_days": "Retention (days)",
    "data.retention_policy_public": "Retention policy public",
    "data.sold_or_monetized": "Data sold or monetised",
    "data.shares_with_law_enforcement": "Shares data with law enforcement",
    "data.law_enforcement_recipients": "Law-enforcement recipients",
    "safeguards.consent": "Consent",
    "safeguards.enrollment_optional": "Enrolment optional",
    "safeguards.alternative_method": "Alternative method offered",
    "safeguards.human_review": "Human review",
    "safeguards.operational_testing": "Operational testing",
    "safeguards.demographic_testing": "Demographic testing",
    "safeguards.staff_training": "Staff training",
    "safeguards.feedback_channel": "Feedback channel",
    "safeguards.match_threshold": "Match threshold",
    "legal.authorisation": "Authorisation",
    "legal.eu_art5_objective": "EU AI Act Art. 5 objective",
    "legal.dpia_completed": "DPIA completed",
    "sites": "Deployment sites",
    # fields of list items
    "name": "Name",
    "country": "Country",
    "region": "Region",
    "city": "City",
    "org_type": "Organisation type",
    "public_accommodation": "Public accommodation",
}

SECTION_LABELS: dict[str, str] = {
    "sales": "Sales",
    "customer": "Customer",
    "use": "Use",
    "people": "People",
    "scale": "Scale",
    "data": "Data",
    "safeguards": "Safeguards",
    "legal": "Legal",
}


def field_label(path: str) -> str:
    """`legal.dpia_completed` -> `DPIA completed`; `sites[0].city` -> `Sites 1: City`."""
    if path in FIELD_LABELS:
        return FIELD_LABELS[path]
    head, sep, rest = path.partition("[")
    if sep:
        index, _, tail = rest.partition("]")
        item = FIELD_LABELS.get(tail.lstrip("."), tail.lstrip("."))
        base = FIELD_LABELS.get(head, head)
        number = int(index) + 1 if index.isdigit() else index
        return f"{base} {number}: {item}" if tail else f"{base} {number}"
    return path.rsplit(".", 1)[-1].replace("_", " ").capitalize()


# The one item of each list of objects, for "Add an end user", "Remove site 2".
ITEM_LABELS: dict[str, str] = {
    "end_users": "end user",
    "sites": "site",
    "data.law_enforcement_recipients": "recipient",
}

# What a known empty list means, in the words of `request-format.md`.
NONE_LABELS: dict[str, str] = {
    "end_users": "None: the customer itself is the end user",
    "sites": "None: nowhere physical (online only)",
    "data.law_enforcement_recipients": "None",
}

UNKNOWN_LABEL = "Unknown"
"""An absent fact, in every choice of the forms ("unknown is not false")."""

BOOL_LABELS = {"true": "Yes", "false": "No"}

# The stored values of the enumerations and sets whose words are not their value with spaces
# and a capital (`government_agency` -> `Government agency` needs no entry). A key
# `field=value` is the words of one field only (`none` means something else for each).
VALUE_LABELS: dict[str, str] = {
    "sheriff": "Sheriff's office",
    "corrections": "Corrections (prisons)",
    "ministry_interior": "Interior ministry",
    "intelligence": "Intelligence service",
    "ngo": "NGO",
    "international_org": "International organisation",
    "nonprofit": "Non-profit",
    "personalization": "Personalisation",
    "le_apprehended_suspect": "Law enforcement: suspect already apprehended",
    "intl_justice": "International justice",
    "emergency_imminent_danger": "Emergency: imminent danger",
    "verification": "Verification (1:1)",
    "identification": "Identification (1:N)",
    "use.real_time=none": "Not in real time",
    "near_real_time": "Near real time",
    "user_device": "The user's own device",
    "fixed_cctv": "Fixed CCTV",
    "body_worn": "Body-worn camera",
    "dash_mounted": "Dashboard camera",
    "handheld_mobile": "Handheld mobile device",
    "self_opt_in": "Self opt-in",
    "employer_required": "Required by the employer",
    "non_consensual_watchlist": "Watchlist without consent",
    "self_enrolled": "Self-enrolled",
    "id_documents": "ID documents",
    "scraped_internet": "Scraped from the internet",
    "harvested_cctv": "Harvested from CCTV",
    "explicit_opt_in": "Explicit opt-in",
    "safeguards.consent=none": "No consent",
    "independent_admin": "Independent administrative authority",
    "exigent": "Exigent circumstances",
    "legal.authorisation=none": "None",
    "legal.eu_art5_objective=none": "None of these",
}


def choice_label(path: str, value: str) -> str:
    """A stored value of the field at `path` in the words a form shows for it
    (`customer.org_type`, `sheriff` -> `Sheriff's office`); a value without an
    entry is itself with spaces and a capital (`government_agency` -> `Government agency`)."""
    words = VALUE_LABELS.get(f"{path}={value}") or VALUE_LABELS.get(value)
    return words or value.replace("_", " ").capitalize()


def value_label(value: str) -> str:
    """A stored enumeration value in words (`government_agency` -> `government agency`)."""
    return value.replace("_", " ")


# --------------------------------------------------------------------------- rule-set words

PARAMETER_WORDS: dict[str, tuple[str, str]] = {
    # A rule-set parameter as its facts say it: one member ("is a police type") and all of
    # them ("includes verification, a recognition operation"; "none of the EU countries").
    "moratorium_countries": ("a moratorium country", "moratorium countries"),
    "police_types": ("a police type", "police types"),
    "law_enforcement_types": ("a law-enforcement type", "law-enforcement types"),
    "security_state_types": ("a security-state type", "security-state types"),
    "high_risk_countries": ("a high-risk country", "high-risk countries"),
    "eu_countries": ("an EU country", "EU countries"),
    "government_only_use_cases": ("a government-only use case", "government-only use cases"),
    "consequential_effects": ("a consequential effect", "consequential effects"),
    "recognition_operations": ("a recognition operation", "recognition operations"),
    "police_name_terms": ("a police name term", "police name terms"),
    "local_bans": ("a place under a local ban", "places under a local ban"),
    "bipa_places": ("a place under Illinois BIPA", "places under Illinois BIPA"),
    "scale_senior.coverage": ("a large-scale coverage", "large-scale coverages"),
}


def parameter_words(name: str, many: bool = False) -> str:
    """`police_types` -> `a police type` (`many`: `police types`); a parameter the table does
    not know is said by its name in words (`in watch list countries`)."""
    words = PARAMETER_WORDS.get(name)
    if words is not None:
        return words[1] if many else words[0]
    plain = name.replace("_", " ").replace(".", " ")
    return plain if many else f"in {plain}"


DEFINITION_LABELS: dict[str, str] = {
    # The named definitions of a rule set (`[definitions]`), as the findings say them.
    "LE": "Law enforcement",
    "recognition": "Recognition",
    "eu_deployment": "EU deployment",
    "private": "Private customer",
    "illinois": "Illinois (BIPA)",
}


def definition_label(name: str) -> str:
    return DEFINITION_LABELS.get(name) or name.replace("_", " ").capitalize()


# --------------------------------------------------------------------------- findings and events

OVERRIDE_WORDS = {
    "never": "no one may approve",
    "committee": "approval needs two seniors",
}


FINDING_COUNTS: dict[str, tuple[str, str]] = {
    # Findings of one outcome counted in words: `1 refusal`, `2 senior escalations`.
    "refuse": ("refusal", "refusals"),
    "needs_information": ("finding that needs information", "findings that need information"),
    "escalate_senior": ("senior escalation", "senior escalations"),
    "escalate_second": ("second check", "second checks"),
    "conditions": ("finding with conditions", "findings with conditions"),
    "approve": ("approval", "approvals"),
}


def count_words(count: int, singular: str, plural: str) -> str:
    """`1 missing fact`, `11 missing facts`."""
    return f"{count} {singular if count == 1 else plural}"


def findings_count(outcome: str, count: int) -> str:
    """`2 refusals`; an outcome the vocabulary does not know: `2 findings (its label)`."""
    words = FINDING_COUNTS.get(outcome)
    if words is None:
        return count_words(count, "finding", "findings") + f" ({value_label(outcome)})"
    return count_words(count, *words)


def finding_words(outcome: str, override: str | None = None) -> str:
    """A finding's outcome in words, with its override level: `Refuse (no one may approve)`."""
    words = Recommendation.label_of(outcome)
    if override:
        words += f" ({OVERRIDE_WORDS.get(override, 'override ' + override)})"
    return words


def size_words(size: int, exact: bool = False) -> str:
    """A file size for people: `900 bytes`, `12.1 KB`, `3.4 MB` (1 KB = 1024 bytes, as the
    size limits count); `exact` adds the bytes: `12,345 bytes (12.1 KB)`."""
    if size < 1024:
        return f"{size:,} bytes"
    value, unit = size / 1024, "KB"
    for bigger in ("MB", "GB"):
        if value < 1024:
            break
        value, unit = value / 1024, bigger
    short = f"{value:.1f} {unit}"
    return f"{size:,} bytes ({short})" if exact else short


def event_words(action: str, payload: dict[str, object]) -> str:
    """An audit event of a request in words, for its history (window and PDF record)."""
    decision = f" {payload['decision']}" if "decision" in payload else ""
    if action == "import":
        return "received"
    if action == "update":
        return f"new version {payload.get('version', '')}".rstrip()
    if action == "decide":
        outcome = Outcome.label_of(str(payload.get("outcome", "")))
        checked = ", awaiting a second check" if payload.get("checker_needed") else ""
        return f"decided{decision}: {outcome}{checked}"
    if action == "return":
        return f"returned for information (decision{decision})"
    if action == "check":
        if payload.get("result") == "confirm":
            return f"checked: decision{decision} confirmed"
        return f"checked: decision{decision} refused, back to its decider"
    if action == "note":
        return f"note: {payload.get('text', '')}"
    if action == "attach":
        size = payload.get("size")
        note = f": {payload['note']}" if payload.get("note") else ""
        return (f"attached {payload.get('number', '')} {payload.get('name', '')} "
                f"({size_words(size) if isinstance(size, int) else '?'}, sha256 "
                f"{str(payload.get('sha256', ''))[:12]}){note}")  # fmt: skip
    if action == "redact_attachment":
        return f"attachment {payload.get('number', '')} redacted: {payload.get('reason', '')}"
    if action == "rereview":
        return f"re-review of decision{decision} started: {payload.get('reason', '')}"
    if action == "reevaluate":
        why = payload.get("trigger") or "a rule-engine upgrade"
        now = payload.get("recommendation")
        return f"evaluated again after {why}" + (f": {Recommendation.label_of(str(now))}" if now else "")
    if action == "customer_add":
        return f"customer C-{payload.get('customer', '')} recorded for {payload.get('name', '')}"
    if action in ("customer_link", "customer_unlink"):
        was = f" (was C-{payload['previous']})" if payload.get("previous") is not None else ""
        how = "linked by hand to" if action == "customer_link" else "unlinked by hand, now"
        return f"{how} customer C-{payload.get('customer', '')}{was}"
    if action == "condition":
        status = ConditionStatus.label_of(str(payload.get("status", "")))
        return f"condition {payload.get('condition', '')} marked {status.lower()}"
    words = {"claim": "claimed", "release": "released", "take_over": "taken over",
             "reopen": "reopened"}  # fmt: skip
    return words.get(action, action.replace("_", " "))
