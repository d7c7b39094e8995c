"""Channel loading shared by the built-ins: every layout, and what bad data says."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import scipy.sparse

from sageforge.train.algorithms import AlgorithmError
from sageforge.train.algorithms._data import load_channel


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# -- CSV without a header ------------------------------------------------------------------------


def test_csv_label_first_across_files_and_subfolders(tmp_path: Path) -> None:
    channel = tmp_path / "train"
    write(channel / "a.csv", "1,0.5,2\n0,1.5,3\n")
    write(channel / "part" / "b.csv", "1,2.5,4\n")
    write(channel / "_SUCCESS", "")
    write(channel / ".hidden.csv", "garbage,line\n")
    write(channel / "_temporary" / "x.csv", "garbage\n")
    data = load_channel(channel, "text/csv")
    assert isinstance(data.X, np.ndarray)
    assert data.X.dtype == np.float32 and data.X.flags.c_contiguous
    assert data.X.tolist() == [[0.5, 2], [1.5, 3], [2.5, 4]]
    assert data.y is not None and data.y.dtype == np.float32
    assert data.y.tolist() == [1, 0, 1]
    assert data.feature_names is None
    assert (data.num_rows, data.num_features) == (3, 2)


def test_csv_blocks_larger_than_one_copy_block(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    rows = np.round(rng.normal(size=(70_000, 4)), 4).astype(np.float32)
    path = tmp_path / "train" / "big.csv"
    path.parent.mkdir()
    np.savetxt(path, rows, delimiter=",", fmt="%.4f")
    data = load_channel(path.parent, "text/csv")
    assert isinstance(data.X, np.ndarray)
    assert np.array_equal(data.X, rows[:, 1:]) and data.y is not None
    assert np.array_equal(data.y, rows[:, 0])


def test_csv_label_size_zero_and_unlabelled(tmp_path: Path) -> None:
    write(tmp_path / "c" / "a.csv", "1,2\n3,4\n")
    for data in (
        load_channel(tmp_path / "c", "text/csv;label_size=0"),
        load_channel(tmp_path / "c", "text/csv", labelled=False),
    ):
        assert data.y is None
        assert isinstance(data.X, np.ndarray) and data.X.tolist() == [[1, 2], [3, 4]]


def test_csv_missing_features_are_nan_and_missing_label_fails(tmp_path: Path) -> None:
    write(tmp_path / "c" / "a.csv", "1,,3\n0,NA,4\n")
    data = load_channel(tmp_path / "c", "text/csv")
    assert math.isnan(data.X[0, 0]) and math.isnan(data.X[1, 0])
    write(tmp_path / "d" / "a.csv", "1,2\n,3\n,4\n")
    with pytest.raises(AlgorithmError, match=r"label is missing in data row 2 \(2 rows"):
        load_channel(tmp_path / "d", "text/csv", channel="train")


def test_csv_ragged_row_names_file_and_line(tmp_path: Path) -> None:
    write(tmp_path / "c" / "data.csv", "1,2,3\n4,5,6\n7,8\n")
    with pytest.raises(
        AlgorithmError, match=r"data.csv, line 3: 2 values where the first row has 3"
    ):
        load_channel(tmp_path / "c", "text/csv")


def test_csv_non_number_names_line_and_column(tmp_path: Path) -> None:
    write(tmp_path / "c" / "data.csv", "1,2,3\n4,5,6\n7,x,9\n")
    with pytest.raises(AlgorithmError, match=r"data.csv, line 3, column 2: 'x' is not a number"):
        load_channel(tmp_path / "c", "text/csv")


def test_csv_files_with_different_widths(tmp_path: Path) -> None:
    write(tmp_path / "c" / "a.csv", "1,2,3\n")
    write(tmp_path / "c" / "b.csv", "1,2\n")
    with pytest.raises(AlgorithmError, match=r"b\.csv has 2 columns but a\.csv has 3"):
        load_channel(tmp_path / "c", "text/csv")


def test_empty_or_missing_channel(tmp_path: Path) -> None:
    (tmp_path / "train").mkdir()
    write(tmp_path / "train" / "_SUCCESS", "")
    with pytest.raises(AlgorithmError, match="channel 'train' has no data files"):
        load_channel(tmp_path / "train", "text/csv")
    with pytest.raises(AlgorithmError, match=r"channel 'validation'.*does not exist"):
        load_channel(tmp_path / "nope", "text/csv", channel="validation")
    write(tmp_path / "blank" / "a.csv", "\n\n")
    with pytest.raises(AlgorithmError, match="channel 'blank' has no rows"):
        load_channel(tmp_path / "blank", "text/csv")


def test_unsupported_content_type(tmp_path: Path) -> None:
    write(tmp_path / "c" / "a.csv", "1,2\n")
    with pytest.raises(AlgorithmError, match="'image/jpeg' is not supported"):
        load_channel(tmp_path / "c", "image/jpeg")


# -- CSV with a header ---------------------------------------------------------------------------


def test_header_csv_target_column(tmp_path: Path) -> None:
    write(tmp_path / "c" / "a.csv", "age,churn,calls\n30,1,5\n40,0,7\n")
    data = load_channel(tmp_path / "c", "text/csv;header=present;target=churn")
    assert data.feature_names == ["age", "calls"]
    assert data.y is not None and data.y.tolist() == [1, 0]
    assert isinstance(data.X, np.ndarray) and data.X.tolist() == [[30, 5], [40, 7]]
    first = load_channel(tmp_path / "c", "text/csv;header=present")
    assert first.feature_names == ["churn", "calls"] and first.y is not None
    assert first.y.tolist() == [30, 40]
    unlabelled = load_channel(
        tmp_path / "c", "text/csv;header=present;target=churn", labelled=False
    )
    assert unlabelled.y is None and unlabelled.feature_names == ["age", "calls"]


def test_header_csv_unknown_target_and_text_column(tmp_path: Path) -> None:
    write(tmp_path / "c" / "a.csv", "age,state\n30,CA\n")
    with pytest.raises(
        AlgorithmError, match="no column named 'churn' for the label; columns are age"
    ):
        load_channel(tmp_path / "c", "text/csv;header=present;target=churn")
    with pytest.raises(AlgorithmError, match=r"line 2, column 2 \('state'\): 'CA' is not a number"):
        load_channel(tmp_path / "c", "text/csv;header=present")


def test_header_csv_files_must_agree(tmp_path: Path) -> None:
    write(tmp_path / "c" / "a.csv", "y,x\n1,2\n")
    write(tmp_path / "c" / "b.csv", "y,z\n1,2\n")
    with pytest.raises(AlgorithmError, match=r"the header of b\.csv differs"):
        load_channel(tmp_path / "c", "text/csv;header=present")


def test_target_without_header(tmp_path: Path) -> None:
    write(tmp_path / "c" / "a.csv", "1,2\n")
    with pytest.raises(AlgorithmError, match="needs a header"):
        load_channel(tmp_path / "c", "text/csv;target=y")


# -- LIBSVM --------------------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["text/libsvm", "libsvm", "text/x-libsvm"])
def test_libsvm_files_of_different_widths(tmp_path: Path, content_type: str) -> None:
    write(tmp_path / "c" / "a.txt", "1 1:0.5 3:2\n0 2:1\n")
    write(tmp_path / "c" / "b.txt", "1 5:1\n")
    data = load_channel(tmp_path / "c", content_type)
    assert isinstance(data.X, scipy.sparse.csr_matrix) and data.X.dtype == np.float32
    assert data.X.shape == (3, 6)
    assert data.X[0, 1] == 0.5 and data.X[0, 3] == 2 and data.X[2, 5] == 1
    assert data.y is not None and data.y.tolist() == [1, 0, 1]
    assert data.qid is None


def test_libsvm_qid_and_unlabelled(tmp_path: Path) -> None:
    write(tmp_path / "c" / "a.txt", "2 qid:1 1:1\n0 qid:1 1:2\n1 qid:2 2:1\n")
    data = load_channel(tmp_path / "c", "text/libsvm")
    assert data.qid is not None and data.qid.tolist() == [1, 1, 2]
    write(tmp_path / "u" / "a.txt", "1:1 2:3\n0:4\n")
    unlabelled = load_channel(tmp_path / "u", "text/libsvm", labelled=False)
    assert unlabelled.y is None and unlabelled.X.shape == (2, 3)


def test_libsvm_bad_line(tmp_path: Path) -> None:
    write(tmp_path / "c" / "a.txt", "1 1:2\n0 1:2\n1 1:zz\n")
    with pytest.raises(
        AlgorithmError, match=r"a.txt: LIBSVM line 3: feature 1 'zz' is not a number"
    ):
        load_channel(tmp_path / "c", "text/libsvm", channel="train")


# -- Parquet -------------------------------------------------------------------------------------


def test_parquet_label_first_or_target(tmp_path: Path) -> None:
    (tmp_path / "c").mkdir()
    table = pa.table({"y": [1, 0], "a": [0.5, None], "flag": [True, False]})
    pq.write_table(table, tmp_path / "c" / "part-0.parquet")
    pq.write_table(table, tmp_path / "c" / "part-1.parquet")
    data = load_channel(tmp_path / "c", "application/x-parquet")
    assert data.feature_names == ["a", "flag"]
    assert data.y is not None and data.y.tolist() == [1, 0, 1, 0]
    assert isinstance(data.X, np.ndarray) and math.isnan(data.X[1, 0]) and data.X[0, 1] == 1
    by_name = load_channel(tmp_path / "c", "application/x-parquet;target=flag")
    assert by_name.feature_names == ["y", "a"]
    assert by_name.y is not None and by_name.y.tolist() == [1, 0, 1, 0]
    with pytest.raises(AlgorithmError, match="label is missing in data row 2"):
        load_channel(tmp_path / "c", "application/x-parquet;target=a", channel="train")


def test_parquet_text_column_and_not_parquet(tmp_path: Path) -> None:
    (tmp_path / "c").mkdir()
    pq.write_table(pa.table({"y": [1], "s": ["x"]}), tmp_path / "c" / "a.parquet")
    with pytest.raises(AlgorithmError, match="column 's' has type string, not a number"):
        load_channel(tmp_path / "c", "application/x-parquet")
    write(tmp_path / "d" / "a.parquet", "not parquet")
    with pytest.raises(AlgorithmError, match=r"a\.parquet is not Parquet"):
        load_channel(tmp_path / "d", "application/x-parquet")
