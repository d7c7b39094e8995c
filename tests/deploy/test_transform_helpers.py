"""Batch transform's record plumbing: mini-batches, answers per record, joins."""

from __future__ import annotations

import pytest

from sageforge.core.errors import ValidationError
from sageforge.deploy._transform_program import _join, _line_chunks, _split_answers


def test_chunks_hold_whole_lines_within_the_payload_limit() -> None:
    data = b"".join(f"{i},{i * 2}\n".encode() for i in range(1000))
    chunks = [bytes(c) for c in _line_chunks(data, 100, single=False)]
    assert b"".join(chunks) == data
    assert all(c.endswith(b"\n") and len(c) <= 100 for c in chunks)
    assert list(_line_chunks(b"a\n\nb\n", 100, single=True)) == [b"a", b"b"]
    long = b"x" * 300 + b"\n" + b"y\n"
    assert b"".join(_line_chunks(long, 100, single=False)) == long  # a record above the limit alone


def test_answers_are_split_per_record() -> None:
    assert _split_answers(b"0.1\n0.2\n", "text/csv", 2) == [b"0.1", b"0.2"]
    body = b'{"predictions":[{"score":1},{"score":2}]}'
    assert _split_answers(body, "application/json", 2) == [b'{"score":1}', b'{"score":2}']
    with pytest.raises(ValidationError, match="SingleRecord"):
        _split_answers(b"0.1", "text/csv", 2)


def test_join_source_input() -> None:
    assert _join(["id", "1"], ["0.5"], csv=True) == ["id", "1", "0.5"]
    assert _join({"a": 1}, {"score": 0.5}, csv=False) == {"a": 1, "SageMakerOutput": {"score": 0.5}}
    assert _join([1, 2], 0.5, csv=False) == [1, 2, 0.5]
