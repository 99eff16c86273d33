"""Macros rendered by Jinja2's sandbox: a macro is text a store's staff wrote, so it may read the
variables it is given and nothing else (no attributes of Python objects, no filters that reach out).

Any variable a macro names that does not exist is an error naming it, as is one this ticket has no
value for; the output is plain text (a reply is e-mailed as text), so nothing is HTML-escaped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, UndefinedError
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment
from jinja2.utils import missing

from app.domain.support.macros import MACRO_VARIABLES, MacroRefused, MacroValues


class _Variables:
    """One object of a macro's variables (``order``…): its values as attributes, and what it may hold."""

    # Underscored: the sandbox never lets a macro read them, so only the values are attributes.
    __slots__ = ("_name", "_values")

    def __init__(self, name: str, values: Mapping[str, str | None]) -> None:
        self._name = name
        self._values = values

    def __getattr__(self, attribute: str) -> str:
        value = self._values.get(attribute)
        if value is None:
            raise AttributeError(attribute)
        return value

    def __str__(self) -> str:
        raise MacroRefused(f"{{{{ {self._name} }}}} is not a value: name one of {_choices(self._name)}.")


def _choices(name: str) -> str:
    return ", ".join(f"{name}.{field}" for field in MACRO_VARIABLES[name])


def _known() -> str:
    return ", ".join(f"{{{{ {name}.{field} }}}}" for name, fields in MACRO_VARIABLES.items() for field in fields)


class _Unknown(StrictUndefined):
    """Says which variable is missing: a name macros do not know, or one this ticket has no value for."""

    @property
    def _undefined_message(self) -> str:
        owner, name = self._undefined_obj, self._undefined_name
        if self._undefined_hint:  # the sandbox refused to read it
            return f"A macro reads only its variables: {_known()}."
        if isinstance(owner, _Variables) and isinstance(name, str):
            fields = MACRO_VARIABLES[owner._name]
            if name in fields:
                return f"{{{{ {owner._name}.{name} }}}} has no value for this ticket ({fields[name]})."
            return f"{{{{ {owner._name}.{name} }}}} is not a macro variable; {owner._name} has {_choices(owner._name)}."
        if isinstance(name, str) and owner is missing:
            return f"{{{{ {name} }}}} is not a macro variable; macros know {_known()}."
        return f"A macro reads only the variables listed: {_known()}."


class _MacroEnvironment(SandboxedEnvironment):
    """No globals (range, lipsum…) and no multiplying or powers: nothing a macro needs, and each could
    make a reply of gigabytes."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        raise SecurityError(f"A macro does not compute with {operator!r}")


_ENVIRONMENT = _MacroEnvironment(undefined=_Unknown, autoescape=False, keep_trailing_newline=True)
_ENVIRONMENT.globals.clear()


def render_macro(body: str, values: MacroValues) -> str:
    """``body`` filled in with ``values``; ``MacroRefused`` with the reason when it cannot be."""
    try:
        template = _ENVIRONMENT.from_string(body)
    except TemplateSyntaxError as exc:
        raise MacroRefused(f"The macro cannot be read at line {exc.lineno}: {_sentence(exc.message)}") from None
    context: dict[str, Any] = {name: _Variables(name, values.get(name, {})) for name in MACRO_VARIABLES}
    try:
        return template.render(context)
    except MacroRefused:
        raise
    except (UndefinedError, SecurityError) as exc:
        raise MacroRefused(_sentence(exc.message)) from None
    except (TemplateError, ArithmeticError, TypeError, ValueError) as exc:
        # What a template can do wrong at run time: divide by zero, add text to a number, a huge range.
        raise MacroRefused(f"The macro cannot be filled in: {_sentence(str(exc))}") from None


def _sentence(message: str | None) -> str:
    return (message or "unknown error").rstrip(".") + "."
