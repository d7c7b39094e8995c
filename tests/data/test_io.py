"""Reading tables: options, samples, and malformed input reported with file, line, column."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pydantic
import pytest

from sageforge.core.errors import ValidationError
from sageforge.data.io import DataReadError, ReadOptions, check_structure, count_rows, read_table


def write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data)
    else:
        path.write_bytes(data)
    return path


def test_csv_options(tmp_path: Path) -> None:
    f = write(tmp_path / "a.txt", "id;name;note\n1;'x;y';NA\n2;z;ok\n")
    df = read_table(f, ReadOptions(format="csv", delimiter=";", quote_char="'", null_values=["NA"]))
    assert df.rows() == [(1, "x;y", None), (2, "z", "ok")]
    tsv = write(tmp_path / "b.tsv", "a\tb\n1\t2\n")
    assert read_table(tsv).rows() == [(1, 2)]
    headless = write(tmp_path / "c.csv", "1,2\n3,4\n")
    assert read_table(headless, ReadOptions(has_header=False)).shape == (2, 2)
    latin = write(tmp_path / "d.csv", "city\nSão Paulo\n".encode("latin-1"))
    assert read_table(latin, ReadOptions(encoding="latin-1"))["city"][0] == "São Paulo"
    typed = read_table(
        f,
        ReadOptions(format="csv", delimiter=";", quote_char="'", schema_overrides={"id": "string"}),
    )
    assert typed["id"].dtype == pl.String
    with pytest.raises(pydantic.ValidationError, match="unknown encoding"):
        ReadOptions(encoding="klingon")
    with pytest.raises(pydantic.ValidationError, match="unknown type"):
        ReadOptions(schema_overrides={"id": "integr"})


def test_other_formats_folders_and_samples(tmp_path: Path) -> None:
    df = pl.DataFrame({"a": list(range(100)), "b": [f"s{i}" for i in range(100)]})
    df.write_parquet(tmp_path / "p" / "x.parquet", mkdir=True)
    assert read_table(tmp_path / "p" / "x.parquet").equals(df)
    df.write_ndjson(write(tmp_path / "j" / "x.jsonl", ""))
    assert read_table(tmp_path / "j" / "x.jsonl").equals(df)
    df.head(60).write_csv(write(tmp_path / "f" / "1.csv", ""))
    df.tail(40).write_csv(write(tmp_path / "f" / "2.csv", ""))
    write(tmp_path / "f" / "_SUCCESS", "")
    assert read_table(tmp_path / "f").equals(df)
    assert count_rows(tmp_path / "f") == 100
    assert read_table(tmp_path / "f", limit=70)["a"].to_list() == list(range(70))
    sample = read_table(tmp_path / "f", limit=10, sample="random", seed=1)
    assert (
        sample.height == 10 and sample["a"].is_sorted() and sample["a"].to_list() != list(range(10))
    )
    with pytest.raises(ValidationError, match="cannot tell the format"):
        read_table(write(tmp_path / "x.data", "a\n1\n"))


def test_late_values_widen_the_inferred_type(tmp_path: Path) -> None:
    lines = ["x"] + ["1"] * 20_000 + ["2.5"]
    df = read_table(write(tmp_path / "late.csv", "\n".join(lines) + "\n"))
    assert df["x"].dtype == pl.Float64 and df["x"][-1] == 2.5


def test_ragged_rows_name_file_line_and_column(tmp_path: Path) -> None:
    f = write(tmp_path / "ragged.csv", "a,b,c\n1,2,3\n4,5,6,7\n8,9,10\n")
    with pytest.raises(DataReadError) as err:
        read_table(f)
    assert err.value.message.startswith(
        "ragged.csv, line 3, column 4: the row has 4 fields but the header has 3"
    )
    short = write(tmp_path / "short.csv", "a,b,c\n1,2,3\n4,5\n")
    with pytest.raises(DataReadError, match=r"short\.csv, line 3, column 3: the row has 2 fields"):
        check_structure(short)


def test_bad_encoding_names_the_byte(tmp_path: Path) -> None:
    f = write(tmp_path / "enc.csv", b"a,b\n1,ok\n2,caf\xe9\n")
    with pytest.raises(DataReadError) as err:
        read_table(f)
    assert err.value.message.startswith("enc.csv, line 3, column 6: bytes e9")
    assert "encoding='latin-1'" in err.value.message
    with pytest.raises(DataReadError, match=r"enc\.csv, line 3"):
        read_table(f, ReadOptions(encoding="ascii"))


def test_wrong_types_name_line_and_column(tmp_path: Path) -> None:
    f = write(tmp_path / "types.csv", "id,age\n1,30\n2,thirty\n")
    with pytest.raises(DataReadError) as err:
        read_table(f, ReadOptions(schema_overrides={"age": "int"}))
    assert err.value.message.startswith(
        "types.csv, line 3, column 2 ('age'): 'thirty' is not a valid"
    )
    j = write(tmp_path / "t.jsonl", '{"age": 1}\n{"age": "x"}\n')
    with pytest.raises(DataReadError, match=r"t\.jsonl, line 2, column 'age': 'x' is not a valid"):
        read_table(j, ReadOptions(schema_overrides={"age": "int"}))


def test_malformed_json_and_parquet(tmp_path: Path) -> None:
    j = write(tmp_path / "bad.jsonl", '{"a": 1}\n{"a": 2,\n')
    with pytest.raises(DataReadError, match=r"bad\.jsonl, line 2, column 9: not valid JSON"):
        read_table(j)
    p = write(tmp_path / "bad.parquet", b"not parquet at all")
    with pytest.raises(DataReadError, match=r"bad\.parquet: not a readable Parquet file"):
        read_table(p)
    with pytest.raises(ValidationError, match="does not exist"):
        read_table(tmp_path / "missing.csv")
