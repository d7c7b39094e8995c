"""How to read a table: format, CSV dialect, encoding, type overrides."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Annotated, Literal

from pydantic import Field, field_validator

from sageforge.core.errors import ValidationError
from sageforge.core.spec import Spec
from sageforge.data.flow._base import dtype_from_name

TableFormat = Literal["csv", "tsv", "parquet", "jsonl"]
FORMATS: tuple[str, ...] = ("csv", "tsv", "parquet", "jsonl")

_EXTENSIONS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
}


class ReadOptions(Spec):
    """Options for reading one table (every file under a folder shares them)."""

    format: TableFormat | None = None
    """Default: from the file extension (.csv .tsv .parquet .jsonl/.ndjson)."""
    delimiter: Annotated[str | None, Field(min_length=1, max_length=1)] = None
    """Default: `,` for csv, a tab for tsv."""
    has_header: bool = True
    encoding: str = "utf-8"
    """Any Python codec name (`latin-1`, `cp1252`, `utf-16` …)."""
    quote_char: Annotated[str | None, Field(max_length=1)] = '"'
    """None or "" disables quoting."""
    null_values: list[str] = []
    """Extra strings read as missing (empty fields always are), e.g. ["NA", "?"]."""
    comment_prefix: Annotated[str | None, Field(max_length=5)] = None
    skip_rows: Annotated[int, Field(ge=0)] = 0
    schema_overrides: dict[str, str] = {}
    """{column: type} where inference guesses wrong: int, float, string, bool, date, datetime."""

    @field_validator("encoding")
    @classmethod
    def _known_codec(cls, v: str) -> str:
        import codecs

        try:
            codecs.lookup(v)
        except LookupError:
            raise ValueError(f"unknown encoding {v!r}") from None
        return v

    @field_validator("schema_overrides")
    @classmethod
    def _known_types(cls, v: dict[str, str]) -> dict[str, str]:
        for col, name in v.items():
            try:
                dtype_from_name(name)
            except ValueError as exc:
                raise ValueError(f"{col}: {exc}") from None
        return v

    @property
    def is_utf8(self) -> bool:
        return self.encoding.lower().replace("_", "-") in ("utf-8", "utf8", "utf-8-sig")

    def separator(self, fmt: str) -> str:
        return self.delimiter or ("\t" if fmt == "tsv" else ",")


def infer_format(name: str, options: ReadOptions) -> str:
    """The table format: the option if given, else from the file name's extension."""
    if options.format:
        return options.format
    suffixes = [s.lower() for s in PurePosixPath(name).suffixes]
    if suffixes and suffixes[-1] in (".gz", ".zst"):
        suffixes = suffixes[:-1]
    fmt = _EXTENSIONS.get(suffixes[-1]) if suffixes else None
    if fmt is None:
        raise ValidationError(
            f"cannot tell the format of {name!r} from its name; give format ({', '.join(FORMATS)})",
            field="read_options.format",
        )
    return fmt
