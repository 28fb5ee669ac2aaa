"""Known errors: the input or the environment is at fault, not the program.

Each carries the CLI exit code of `cli.md`; anything else that escapes is a bug.
"""

from __future__ import annotations


class ReviewerError(Exception):
    """Base of all errors a user can act on."""

    exit_code = 1

    def lines(self) -> list[str]:
        return [str(self)]


class IntegrityProblem(ReviewerError):
    """Stored data differs from what its hash or the audit trail says: nothing acts on it."""

    exit_code = 1


class UsageError(ReviewerError):
    exit_code = 2


class InvalidInput(ReviewerError):
    """Bad request files or rule-set files; nothing was written."""

    exit_code = 3

    def __init__(self, messages: list[str], total: int | None = None) -> None:
        self.messages = list(messages)
        self.total = total if total is not None else len(messages)
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        out = self.messages[:MAX_ERROR_LINES]
        if self.total > len(out):
            out.append(f"... and {self.total - len(out)} more errors")
        return out


MAX_ERROR_LINES = 100


class NotPermittedLines(InvalidInput):
    """Several refusals found while reading input (an import touching decided requests)."""

    exit_code = 5


class ConflictError(ReviewerError):
    exit_code = 4


class NotPermitted(ReviewerError):
    exit_code = 5


class NotFound(ReviewerError):
    exit_code = 6


class EnvironmentProblem(ReviewerError):
    """Database unreachable, locked, read-only, full, or its schema is behind."""

    exit_code = 7


class Cancelled(ReviewerError):
    """The user stopped a long operation; whatever it was writing was rolled back."""

    exit_code = 130
