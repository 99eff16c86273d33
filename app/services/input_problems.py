"""Where an import or a request is wrong, in the terms its author can find it by."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

SHOWN_VALUE = 60  # characters of a bad value repeated in its error


@dataclass(frozen=True, slots=True)
class InputProblem:
    """What is wrong, and where: ``row`` is the CSV line a row starts on (the header is line 1) or the
    item's index in an API request, ``None`` for the input as a whole; ``column`` is ``None`` for a
    row as a whole."""

    row: int | None
    column: str | None
    value: str
    message: str

    def __str__(self) -> str:
        where = "file" if self.row is None else f"row {self.row}"
        if self.column:
            where += f", {self.column}"
        shown = f" {self.value!r}" if self.value else ""
        return f"{where}:{shown} {self.message}"


def shown(value: str) -> str:
    """A bad value as its error repeats it: cut short when long."""
    return value if len(value) <= SHOWN_VALUE else value[: SHOWN_VALUE - 1] + "…"


def header_problems(
    columns: Sequence[str], *, known: Sequence[str], required: Collection[str], what: str
) -> list[InputProblem]:
    """What is wrong with a CSV file's header (line 1): columns separated by ';' (a spreadsheet's
    local CSV), a column twice, one that ``what`` (e.g. "a rate table") has not, a required one missing."""
    expected = ",".join(known)
    if len(columns) == 1 and ";" in columns[0]:
        return [
            InputProblem(1, None, shown(columns[0]), f"is separated by ';': separate columns by commas ({expected})")
        ]
    problems: list[InputProblem] = []
    seen: set[str] = set()
    for name in columns:
        if name in seen:
            problems.append(InputProblem(1, name, name, "appears twice in the header"))
        elif name not in known:
            problems.append(
                InputProblem(1, None, shown(name), f"is not a column of {what} (the columns are {expected})")
            )
        seen.add(name)
    problems.extend(
        InputProblem(1, name, "", "is missing from the header")
        for name in known
        if name in required and name not in seen
    )
    return problems
