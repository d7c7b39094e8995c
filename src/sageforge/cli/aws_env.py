"""`sageforge aws-env`: point boto3 and the SageMaker SDK at sageforge, in one line.

`eval "$(sageforge aws-env)"` sets the per-service endpoint URLs botocore reads
(`AWS_ENDPOINT_URL_<SERVICE>`), the default key pair and region, and a
SageMaker SDK config file (`SAGEMAKER_USER_CONFIG_OVERRIDE`) that names the
default bucket and default execution roles and turns telemetry off, so the
SDK's start-up makes no STS call and needs no network.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import typer

from sageforge.cli._output import err_console
from sageforge.core.config import Settings

ENDPOINT_VARIABLES = (
    "AWS_ENDPOINT_URL_SAGEMAKER",
    "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME",
    "AWS_ENDPOINT_URL_SAGEMAKER_FEATURESTORE_RUNTIME",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS",
    "AWS_ENDPOINT_URL_CLOUDWATCH",
    "AWS_ENDPOINT_URL_STS",
)
DEFAULT_ROLE_NAME = "SageforgeExecutionRole"


def default_bucket(region: str, account: str) -> str:
    """The bucket name the SageMaker SDK would pick itself (`sagemaker-<region>-<account>`)."""
    return f"sagemaker-{region}-{account}"


def sdk_config(bucket: str, role_arn: str) -> str:
    """The SageMaker SDK's user config (YAML; schema `sagemaker.config.config_schema`)."""
    return (
        "# Written by `sageforge aws-env`: the SageMaker Python SDK's defaults for sageforge.\n"
        "SchemaVersion: '1.0'\n"
        "SageMaker:\n"
        "  PythonSDK:\n"
        "    Modules:\n"
        "      Session:\n"
        f"        DefaultS3Bucket: {bucket}\n"
        "      TelemetryOptOut: true\n"
        "  TrainingJob:\n"
        f"    RoleArn: {role_arn}\n"
        "  ProcessingJob:\n"
        f"    RoleArn: {role_arn}\n"
        "  Model:\n"
        f"    ExecutionRoleArn: {role_arn}\n"
    )


def aws_env(
    region: str = typer.Option("us-east-1", help="AWS_DEFAULT_REGION to announce."),
    bucket: str | None = typer.Option(
        None, help="The SDK's default bucket (default: sagemaker-<region>-<account>)."
    ),
    config_file: Path | None = typer.Option(
        None,
        help="Where to write the SageMaker SDK config (default: <home>/sagemaker-config.yaml).",
    ),
    endpoint_url: str | None = typer.Option(
        None, help="The AWS-compatible API's URL (default: the local server's, started if needed)."
    ),
) -> None:
    """Print `export` lines that point boto3 and the SageMaker SDK at sageforge."""
    from sageforge.compat._context import account_id
    from sageforge.compat._keys import default_credentials

    settings = Settings.load()
    url = endpoint_url or _local_aws_url(settings)
    key, secret = default_credentials(settings)
    account = account_id()
    config_path = (config_file or settings.home / "sagemaker-config.yaml").expanduser().resolve()
    config_path.parent.mkdir(parents=True, exist_ok=True)
    role_arn = f"arn:aws:iam::{account}:role/{DEFAULT_ROLE_NAME}"
    config_path.write_text(sdk_config(bucket or default_bucket(region, account), role_arn))
    values = dict.fromkeys(ENDPOINT_VARIABLES, url)
    values.update(
        {
            "AWS_ACCESS_KEY_ID": key,
            "AWS_SECRET_ACCESS_KEY": secret,
            "AWS_DEFAULT_REGION": region,
            "AWS_EC2_METADATA_DISABLED": "true",
            "SAGEMAKER_USER_CONFIG_OVERRIDE": str(config_path),
        }
    )
    for name, value in values.items():
        print(f"export {name}={shlex.quote(value)}")  # plain: Rich could wrap or eat [markup]
    err_console.print(
        f'[dim]# AWS-compatible API at {url}; apply with: eval "$(sageforge aws-env)"[/]'
    )


def _local_aws_url(settings: Settings) -> str:
    from sageforge.core.errors import ServerUnavailable
    from sageforge.sdk._local_server import ensure_server, read_server_file

    if settings.url:
        raise ServerUnavailable(
            f"SAGEFORGE_URL is set ({settings.url}); pass --endpoint-url with that server's "
            "AWS-compatible address (`sageforge server` prints it)"
        )
    ensure_server(settings)
    info = read_server_file(settings) or {}
    url = info.get("aws_url")
    if not url:
        raise ServerUnavailable(
            "the running sageforge server has no AWS-compatible listener; restart it without "
            "`--aws-port -1`"
        )
    return str(url)
