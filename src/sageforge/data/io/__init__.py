"""Reading tables: CSV/TSV (delimiter, header, encoding, quoting), Parquet, JSON Lines.

Errors name the file, the line and the column (`DataReadError`); samples are
the first or a random N rows.
"""

from sageforge.data.io._explain import DataReadError
from sageforge.data.io._options import FORMATS, ReadOptions, TableFormat, infer_format
from sageforge.data.io._read import (
    INFER_ROWS,
    SampleMethod,
    check_structure,
    count_rows,
    data_files,
    read_table,
    scan_table,
)

__all__ = [
    "FORMATS",
    "INFER_ROWS",
    "DataReadError",
    "ReadOptions",
    "SampleMethod",
    "TableFormat",
    "check_structure",
    "count_rows",
    "data_files",
    "infer_format",
    "read_table",
    "scan_table",
]
