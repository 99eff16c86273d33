"""Where an import or a request is wrong, in the terms its author can find it by."""

from __future__ import annotations

from dataclasses import dataclass


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
