"""Form state for templates: the values the user typed and an error per field.

A service raises one ValidationError naming the field at fault in the API's
terms (`read_options.delimiter`, `steps[2].params.strategy`); `Form.fail` maps
that onto the form's own input names so the message shows beside the right
input, and anything it cannot place shows above the form (`_`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request

from sageforge.core.errors import SageforgeError

FORM_ERROR = "_"


@dataclass
class Form:
    """What `_macros.html`'s `field` macro reads: `values[name]` and `errors[name]`."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, name: str, message: str) -> Form:
        """Record the first error of a field (later ones are usually consequences)."""
        self.errors.setdefault(name, message)
        return self

    def fail(
        self,
        exc: SageforgeError,
        fields: Mapping[str, str] | Callable[[str], str | None] | None = None,
    ) -> Form:
        """Place a service's error on the input it names (see the module docstring)."""
        target: str | None = None
        if exc.field:
            if callable(fields):
                target = fields(exc.field)
            elif fields is not None:
                target = next(
                    (
                        name
                        for prefix, name in fields.items()
                        if exc.field == prefix or exc.field.startswith((prefix + ".", prefix + "["))
                    ),
                    None,
                )
            elif exc.field in self.values:
                target = exc.field
        if target is None:
            return self.error(FORM_ERROR, str(exc))
        return self.error(target, exc.message)

    def list(self, name: str) -> list[str]:
        """A multi-valued field's values (one value or none come as a list too)."""
        v = self.values.get(name)
        if v is None or v == "":
            return []
        return [str(x) for x in v] if isinstance(v, list) else [str(v)]

    def require(self, *names: str) -> Form:
        for name in names:
            if str(self.values.get(name) or "").strip() == "":
                self.error(name, "is required")
        return self


async def read_form(request: Request) -> Form:
    """The posted fields as a Form (repeated names, as from a multi-select, become lists)."""
    data = await request.form()
    values: dict[str, Any] = {}
    for key in data:
        items = [v for v in data.getlist(key) if isinstance(v, str)]
        values[key] = items if len(items) > 1 else (items[0] if items else "")
    return Form(values)


def wants_json(request: Request) -> bool:
    """A script (fetch/XHR) asking, rather than a browser navigating."""
    return "application/json" in request.headers.get("accept", "")
