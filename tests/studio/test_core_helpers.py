"""Studio's helpers without a server: paging, template filters, step forms from Params models."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from sageforge.core.db import Database, Job
from sageforge.data.flow import TRANSFORMS
from sageforge.studio import paginate
from sageforge.studio._templates import ago, bytes_, duration, num, status_badge
from sageforge.studio.pages._step_forms import param_fields, parse_params, values_of


def test_paginate_a_list_clamps_pages_and_keeps_filters() -> None:
    items = list(range(120))
    p = paginate(items, 2, per_page=50)
    assert p.items == list(range(50, 100)) and p.pages == 3 and p.total == 120
    assert (p.first, p.last) == (51, 100)
    assert paginate(items, 99, per_page=50).items == list(range(100, 120))  # past the end
    assert paginate(items, "x", per_page=50).page == 1
    assert paginate([], 1).pages == 1 and paginate([], 1).first == 0
    p.query = {"kind": "training", "q": "a b"}
    assert p.url(3) == "?kind=training&q=a+b&page=3"


def test_paginate_a_select_counts_and_cuts_in_sql(tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = Database(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        now = datetime.now(UTC)
        with db.session() as s:
            for i in range(7):
                s.add(
                    Job(kind="training", name=f"j{i}", arn=f"arn:{i}", status="Completed",
                        spec={}, outputs={}, workdir="/x", creation_time=now + timedelta(seconds=i))
                )  # fmt: skip
            s.commit()
        q = sa.select(Job).order_by(Job.creation_time.desc())
        p = paginate(q, 2, per_page=3, db=db)
        assert [j.name for j in p.items] == ["j3", "j2", "j1"] and p.total == 7 and p.pages == 3
        with pytest.raises(TypeError):
            paginate(q, 1)
    finally:
        db.dispose()


def test_filters_read_like_a_person_wrote_them() -> None:
    now = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)
    assert ago(now - timedelta(seconds=10), now) == "just now"
    assert ago((now - timedelta(minutes=3)).isoformat(), now) == "3 min 0 s ago"
    assert ago(None) == "—" and ago("garbage") == "—"
    assert duration(3725) == "1 h 2 min" and duration(4.25) == "4.2 s"
    assert duration(now, now + timedelta(days=2, hours=1)) == "2 d 1 h"
    assert bytes_(1536) == "1.5 KB" and bytes_(None) == "—"
    assert 'badge-bad">Failed' in status_badge("Failed")
    assert 'badge-ok">InService' in status_badge("InService")
    assert "&lt;b&gt;" in status_badge("<b>")  # escaped
    assert num("0.39999999999999997") == "0.4" and num("0.08974344778105893") == "0.089743"
    assert (
        num("3") == "3" and num("binary:logistic") == "binary:logistic" and num("1e-05") == "1e-05"
    )


def test_every_step_type_has_a_form_that_round_trips_its_defaults() -> None:
    for step_type, cls in TRANSFORMS.items():
        fields = param_fields(step_type)
        assert [f.name for f in fields] == list(cls.Params.model_fields), step_type
        values = values_of(step_type, {})
        params, errors = parse_params(step_type, values)
        required = {f.name for f in fields if f.required}
        assert set(errors) == required, step_type  # only the required inputs are missing
        assert not (set(params) & required)


def test_step_forms_pick_inputs_from_the_annotations() -> None:
    kinds = {f.name: f.kind for f in param_fields("split")}
    assert kinds == {
        "method": "select", "fractions": "list", "names": "list", "seed": "number",
        "stratify_column": "column", "key_columns": "columns",
    }  # fmt: skip
    assert {f.name: f.kind for f in param_fields("map_values")}["mapping"] == "json"
    params, errors = parse_params(
        "map_values", {"column": "churn", "mapping": '{"yes": 1}', "unmapped": ""}
    )
    assert params == {"column": "churn", "mapping": {"yes": 1}} and not errors
    _, errors = parse_params("map_values", {"column": "churn", "mapping": "{yes"})
    assert "not valid JSON" in errors["mapping"]
    params, _ = parse_params("fill_missing", {"columns": ["a", "b"], "value": "0"})
    assert params == {"columns": ["a", "b"], "value": 0}
    params, _ = parse_params("fill_missing", {"columns": "a", "value": "unknown"})
    assert params == {"columns": ["a"], "value": "unknown"}
