"""Models and endpoint configurations: validated documents with SageMaker's CRUD.

Both are immutable once created, as in SageMaker; an endpoint moves to a new
configuration through UpdateEndpoint. A model is checked when created (its
artifact and source code exist, a built-in's name is known) so a typo fails
the create call, not the endpoint minutes later.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from sageforge.core.db import Database, Tag, utcnow
from sageforge.core.errors import ResourceInUse, ResourceNotFound, ValidationError
from sageforge.core.jobs import job_tags
from sageforge.core.names import make_arn, validate_name
from sageforge.core.store import ArtifactStore
from sageforge.deploy._models import DeployModel, Endpoint, EndpointConfig
from sageforge.deploy._spec import CreateEndpointConfig, CreateModel


def page(
    db: Database,
    table: Any,
    *,
    name_contains: str | None,
    max_results: int,
    next_token: str | None,
    where: Sequence[Any] = (),
) -> tuple[list[Any], str | None]:
    """One page of rows, newest first, with an opaque token for the next."""
    if not 1 <= max_results <= 100:
        raise ValidationError("max_results must be 1–100", field="max_results")
    offset = 0
    if next_token:
        try:
            offset = int(json.loads(base64.urlsafe_b64decode(next_token))["o"])
        except (ValueError, KeyError, TypeError):
            raise ValidationError(
                "next_token is not one this server issued", field="next_token"
            ) from None
    q = sa.select(table)
    if name_contains:
        q = q.where(table.name.contains(name_contains, autoescape=True))
    for cond in where:
        q = q.where(cond)
    q = (
        q.order_by(table.creation_time.desc(), table.id.desc())
        .offset(offset)
        .limit(max_results + 1)
    )
    with db.session() as s:
        rows = list(s.scalars(q))
    token = None
    if len(rows) > max_results:
        token = base64.urlsafe_b64encode(json.dumps({"o": offset + max_results}).encode()).decode()
    return rows[:max_results], token


def _add_tags(s: Any, arn: str, tags: Sequence[Any]) -> None:
    for t in tags:
        s.add(Tag(resource_arn=arn, key=t.key, value=t.value))


class ModelService:
    """CreateModel, DescribeModel, ListModels, DeleteModel."""

    def __init__(self, db: Database, store: ArtifactStore) -> None:
        self.db = db
        self.store = store

    def create(self, req: CreateModel) -> dict[str, Any]:
        name = validate_name(req.model_name, "model_name")
        for i, c in enumerate(req.chain()):
            where = "primary_container" if req.primary_container else f"containers[{i}]"
            if c.algorithm_name:
                from sageforge.train.algorithms import get_algorithm

                try:
                    get_algorithm(c.algorithm_name)
                except ValidationError as exc:
                    raise ValidationError(exc.message, field=f"{where}.algorithm_name") from None
            for attr in ("model_data_url", "source_dir", "flow_url"):
                url = getattr(c, attr)
                if url:
                    self._check_exists(url, f"{where}.{attr}")
        spec = req.model_dump(exclude={"tags"})
        spec["containers"] = [c.model_dump() for c in req.chain()]
        arn = make_arn("model", name)
        with self.db.session() as s:
            if s.scalar(sa.select(DeployModel.id).where(DeployModel.name == name)):
                raise ResourceInUse(f"a model named {name!r} already exists", field="model_name")
            s.add(DeployModel(name=name, arn=arn, spec=spec, creation_time=utcnow()))
            _add_tags(s, arn, req.tags)
            s.commit()
        return self.describe(name)

    def _check_exists(self, url: str, field: str) -> None:
        fs, path = self.store.resolve(url, field=field)
        try:
            found = fs.exists(path)
        except Exception as exc:
            raise ValidationError(f"cannot check {url}: {exc}", field=field) from None
        if not found:
            raise ValidationError(f"nothing found at {url}", field=field)

    def get(self, name: str) -> DeployModel:
        with self.db.session() as s:
            row = s.scalar(sa.select(DeployModel).where(DeployModel.name == name))
        if row is None:
            raise ResourceNotFound(f"no model named {name!r}", field="model_name")
        return row

    def containers(self, name: str) -> list[dict[str, Any]]:
        """The containers a request to this model passes through."""
        return list(self.get(name).spec["containers"])

    def describe(self, name: str) -> dict[str, Any]:
        row = self.get(name)
        return {
            "model_name": row.name,
            "model_arn": row.arn,
            "primary_container": row.spec.get("primary_container"),
            "containers": row.spec.get("containers")
            if not row.spec.get("primary_container")
            else [],
            "creation_time": row.creation_time,
            "tags": job_tags(self.db, row.arn),
        }

    def list(
        self, name_contains: str | None = None, max_results: int = 50, next_token: str | None = None
    ) -> dict[str, Any]:
        rows, token = page(
            self.db,
            DeployModel,
            name_contains=name_contains,
            max_results=max_results,
            next_token=next_token,
        )
        return {
            "models": [{"model_name": r.name, "model_arn": r.arn, "creation_time": r.creation_time} for r in rows],
            "next_token": token,
        }  # fmt: skip

    def delete(self, name: str) -> None:
        row = self.get(name)
        with self.db.session() as s:
            s.execute(sa.delete(DeployModel).where(DeployModel.id == row.id))
            s.execute(sa.delete(Tag).where(Tag.resource_arn == row.arn))
            s.commit()


class EndpointConfigService:
    """CreateEndpointConfig, DescribeEndpointConfig, ListEndpointConfigs, DeleteEndpointConfig."""

    def __init__(self, db: Database, models: ModelService) -> None:
        self.db = db
        self.models = models

    def create(self, req: CreateEndpointConfig) -> dict[str, Any]:
        name = validate_name(req.endpoint_config_name, "endpoint_config_name")
        for group in ("production_variants", "shadow_production_variants"):
            for i, v in enumerate(getattr(req, group)):
                try:
                    self.models.get(v.model_name)
                except ResourceNotFound as exc:
                    raise ValidationError(exc.message, field=f"{group}[{i}].model_name") from None
        if req.data_capture_config:
            self.models.store.resolve(
                req.data_capture_config.destination_s3_uri,
                field="data_capture_config.destination_s3_uri",
            )
        arn = make_arn("endpoint-config", name)
        with self.db.session() as s:
            if s.scalar(sa.select(EndpointConfig.id).where(EndpointConfig.name == name)):
                raise ResourceInUse(
                    f"an endpoint configuration named {name!r} already exists",
                    field="endpoint_config_name",
                )
            s.add(
                EndpointConfig(
                    name=name,
                    arn=arn,
                    spec=req.model_dump(exclude={"tags"}),
                    creation_time=utcnow(),
                )
            )
            _add_tags(s, arn, req.tags)
            s.commit()
        return self.describe(name)

    def get(self, name: str) -> EndpointConfig:
        with self.db.session() as s:
            row = s.scalar(sa.select(EndpointConfig).where(EndpointConfig.name == name))
        if row is None:
            raise ResourceNotFound(
                f"no endpoint configuration named {name!r}", field="endpoint_config_name"
            )
        return row

    def describe(self, name: str) -> dict[str, Any]:
        row = self.get(name)
        return {
            "endpoint_config_name": row.name,
            "endpoint_config_arn": row.arn,
            **{k: v for k, v in row.spec.items() if k != "endpoint_config_name"},
            "creation_time": row.creation_time,
            "tags": job_tags(self.db, row.arn),
        }

    def list(
        self, name_contains: str | None = None, max_results: int = 50, next_token: str | None = None
    ) -> dict[str, Any]:
        rows, token = page(
            self.db,
            EndpointConfig,
            name_contains=name_contains,
            max_results=max_results,
            next_token=next_token,
        )
        return {
            "endpoint_configs": [
                {"endpoint_config_name": r.name, "endpoint_config_arn": r.arn, "creation_time": r.creation_time}
                for r in rows
            ],
            "next_token": token,
        }  # fmt: skip

    def delete(self, name: str) -> None:
        row = self.get(name)
        with self.db.session() as s:
            s.execute(sa.delete(EndpointConfig).where(EndpointConfig.id == row.id))
            s.execute(sa.delete(Tag).where(Tag.resource_arn == row.arn))
            s.commit()

    def in_use(self, name: str) -> bool:
        with self.db.session() as s:
            return bool(s.scalar(sa.select(Endpoint.id).where(Endpoint.config_name == name)))
