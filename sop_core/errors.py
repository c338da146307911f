"""The exceptions sop_core raises; each carries a message a person can act on."""

__all__ = [
    "SopError",
    "ImportRejected",
    "StoreError",
    "StoreBusy",
    "LeverError",
    "PlanError",
    "GoalSeekError",
    "CycleLocked",
    "ConflictError",
    "PermissionDenied",
]


class SopError(Exception):
    """Base class: anything sop_core refuses, with a one-line reason for a person."""


class ImportRejected(SopError):
    """An import was refused; ``problems`` lists each bad cell or file, the store is unchanged."""

    def __init__(self, problems: list[str], cap: int = 50):
        self.problems = list(problems)
        shown = self.problems[:cap]
        more = len(self.problems) - len(shown)
        head = f"Import rejected, nothing was changed: {len(self.problems)} problem(s)."
        body = "\n".join(f"- {p}" for p in shown)
        tail = f"\n… and {more} more problem(s)." if more > 0 else ""
        super().__init__(f"{head}\n{body}{tail}")

    @property
    def summary(self) -> str:
        """One line: the count and the first problem."""
        first = self.problems[0] if self.problems else ""
        return f"Import rejected ({len(self.problems)} problem(s)), nothing was changed. First: {first}"


class StoreError(SopError):
    """The plan store cannot be opened, read or written."""


class StoreBusy(StoreError):
    """Another program held the plan store for longer than we wait; trying again later works."""


class LeverError(SopError):
    """A scenario lever is unknown, has an unknown qualifier, or an impossible value."""


class PlanError(SopError):
    """The plan cannot be computed from what is stored (e.g. no products)."""


class GoalSeekError(SopError):
    """A goal-seek target is malformed, or no value of the lever within its bounds meets it."""


class CycleLocked(SopError):
    """The cycle is locked: edits and imports are refused."""


class ConflictError(SopError):
    """Someone else saved the same item since it was loaded; the later save is refused."""


class PermissionDenied(SopError):
    """The signed-in user's role may not do this."""
