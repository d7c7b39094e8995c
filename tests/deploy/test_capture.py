"""Data capture: SageMaker's record format, hourly partitions, nothing lost at close."""

from __future__ import annotations

import base64
import json
import threading
import uuid
from pathlib import Path

from sageforge.core.store import ArtifactStore
from sageforge.deploy._capture import CaptureWriter, capture_record, capture_settings, read_capture


def test_record_format_and_encodings() -> None:
    rec = capture_record(
        (1_700_000_000.5, "id-1", "text/csv", b"1,2", "application/json", b'{"a":1}', "k=v"),
        ("text/csv",),
        ("application/json",),
    )
    assert rec["eventVersion"] == "0"
    assert rec["captureData"]["endpointInput"] == {
        "observedContentType": "text/csv", "mode": "INPUT", "data": "1,2", "encoding": "CSV"}  # fmt: skip
    assert rec["captureData"]["endpointOutput"]["encoding"] == "JSON"
    meta = rec["eventMetadata"]
    assert meta["inferenceId"] == "id-1" and meta["customAttributes"] == "k=v"
    assert meta["inferenceTime"] == "2023-11-14T22:13:20Z"
    assert uuid.UUID(meta["eventId"]).version == 4
    binary = capture_record(
        (0.0, None, "image/png", b"\xff\x00", "text/csv", b"1", None), ("text/csv",), ()
    )
    assert binary["captureData"]["endpointInput"]["encoding"] == "BASE64"
    assert base64.b64decode(binary["captureData"]["endpointInput"]["data"]) == b"\xff\x00"
    assert "inferenceId" not in binary["eventMetadata"]


def test_writer_partitions_by_hour_and_flushes_everything_on_close(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path.as_uri())
    w = CaptureWriter(store, "store://cap", "ep", "A", flush_s=0.05, capture_output=False)

    def produce(offset: int) -> None:
        for i in range(2000):
            w.add(3600.0 * (i % 2) + offset, None, "text/csv", b"1,2", "text/csv", b"0.5")

    threads = [threading.Thread(target=produce, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    w.close()
    records = read_capture(store, "store://cap")
    assert len(records) == 8000 == w.written
    assert all("endpointOutput" not in r["captureData"] for r in records)
    assert len({r["eventMetadata"]["eventId"] for r in records}) == 8000
    keys = {o.key.rsplit("/", 1)[0] for o in store.ls("cap")}
    assert keys == {"cap/ep/A/1970/01/01/00", "cap/ep/A/1970/01/01/01"}
    assert not [o for o in store.ls("cap") if not o.key.endswith(".jsonl")]
    line = store.get_bytes(next(iter(store.ls("cap"))).key).splitlines()[0]
    assert json.loads(line)["captureData"]["endpointInput"]["mode"] == "INPUT"


def test_settings_from_a_data_capture_config() -> None:
    s = capture_settings({"destination_s3_uri": "store://c", "initial_sampling_percentage": 20,
                          "capture_options": [{"capture_mode": "Output"}]})  # fmt: skip
    assert s is not None and s["sampling_percentage"] == 20.0
    assert (s["capture_input"], s["capture_output"]) == (False, True)
    assert capture_settings({"destination_s3_uri": "x", "enable_capture": False}) is None
    assert capture_settings(None) is None
