"""STS's `GetCallerIdentity` over the query protocol (form-encoded in, XML out).

Tools call it to learn the account id (for ARNs and default bucket names) and
to check credentials; answering it from the verified access key keeps them
offline. The identity is an IAM user named after the key: sageforge keys are
not roles, so code that needs an execution role must be given one (any ARN).
"""

from __future__ import annotations

from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

from starlette.requests import Request
from starlette.responses import Response

from sageforge.compat._context import AwsContext
from sageforge.compat._errors import AwsError
from sageforge.compat._render import request_id

NAMESPACE = "https://sts.amazonaws.com/doc/2011-06-15/"


async def query_params(request: Request) -> dict[str, str]:
    """The query protocol's parameters: the form body of a POST, or the URL's query."""
    params = dict(request.query_params)
    if request.method == "POST":
        params.update(parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True))
    return params


async def handle(ctx: AwsContext, request: Request) -> Response:
    """Answer an STS request; only GetCallerIdentity is supported."""
    params = await query_params(request)
    action = params.get("Action", "")
    if action != "GetCallerIdentity":
        raise AwsError(
            "InvalidAction",
            f"sageforge's STS supports GetCallerIdentity only, not {action or '(no Action)'}",
        )
    rid = request_id()
    body = (
        f'<GetCallerIdentityResponse xmlns="{NAMESPACE}"><GetCallerIdentityResult>'
        f"<Arn>{escape(caller_arn(ctx))}</Arn>"
        f"<UserId>{escape(ctx.access_key)}</UserId>"
        f"<Account>{ctx.account}</Account>"
        f"</GetCallerIdentityResult><ResponseMetadata><RequestId>{rid}</RequestId>"
        f"</ResponseMetadata></GetCallerIdentityResponse>"
    )
    return Response(body, media_type="text/xml", headers={"x-amzn-RequestId": rid})


def caller_arn(ctx: AwsContext) -> str:
    """The IAM-style ARN of whoever signed with this key."""
    return f"arn:aws:iam::{ctx.account}:user/sageforge/{ctx.access_key}"
