"""S3's XML bodies in and out, and its two time formats.

Responses are small documents built from `(tag, value)` pairs (a list value
nests, None drops the element), so each operation states its shape in one
place in S3's element order. Request bodies are parsed with namespaces
stripped: clients send S3's namespace or none.
"""

from __future__ import annotations

import email.utils
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from starlette.responses import Response

from sageforge.compat.s3._errors import malformed_xml

XMLNS = "http://s3.amazonaws.com/doc/2006-03-01/"
MAX_XML_BYTES = 4 * 1024 * 1024
"""Largest request document read (10,000 parts or 1,000 keys of 1 KiB fit well within)."""

Node = tuple[str, Any]


def iso_time(ts: float) -> str:
    """`2009-10-12T17:50:30.000Z`, as S3 writes times in XML."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def http_date(ts: float) -> str:
    """`Mon, 12 Oct 2009 17:50:30 GMT`, as S3 writes times in headers."""
    return email.utils.formatdate(ts, usegmt=True)


def parse_http_date(value: str) -> float | None:
    """Seconds since the epoch, or None for a date S3 would ignore."""
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return iso_time(value.timestamp())
    text = str(value)
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    )


def _write(out: list[str], nodes: Iterable[Node]) -> None:
    for tag, value in nodes:
        if value is None:
            continue
        if isinstance(value, list):
            out.append(f"<{tag}>")
            _write(out, value)
            out.append(f"</{tag}>")
        else:
            out.append(f"<{tag}>{_text(value)}</{tag}>")


def document(root: str, nodes: Iterable[Node]) -> bytes:
    """A whole response document in S3's namespace."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n', f'<{root} xmlns="{XMLNS}">']
    _write(out, nodes)
    out.append(f"</{root}>")
    return "".join(out).encode("utf-8")


def xml_response(
    root: str, nodes: Iterable[Node], headers: dict[str, str] | None = None
) -> Response:
    """200 with an XML document."""
    return Response(document(root, nodes), media_type="application/xml", headers=headers)


def parse(body: bytes, root: str) -> ET.Element:
    """The request document, namespaces stripped; MalformedXML unless its root is `root`."""
    try:
        elem = ET.fromstring(body)
    except ET.ParseError:
        raise malformed_xml() from None
    for node in elem.iter():
        if isinstance(node.tag, str) and "}" in node.tag:
            node.tag = node.tag.split("}", 1)[1]
    if elem.tag != root:
        raise malformed_xml()
    return elem


def child_text(elem: ET.Element, tag: str) -> str | None:
    """The text of the first child named `tag` ("" when empty), None when absent."""
    found = elem.find(tag)
    if found is None:
        return None
    return found.text or ""
