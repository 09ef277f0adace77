"""Schemathesis check for scripts/fuzz: the gateway never fails on its side.

A fuzzed operation may be refused (bad input, not found, forbidden, rate limited): that is the
API working. What must never happen is an HTTP 5xx, a body that is not a GraphQL response, or an
error without a stable `extensions.code` or with code INTERNAL (the code of a bug). Every
response is also counted into $ECL_FUZZ_COUNT_FILE (one line each) for the summary.
"""

import json
import os

import schemathesis

COUNT_FILE = os.environ.get("ECL_FUZZ_COUNT_FILE")


@schemathesis.check
def ecl_no_server_error(ctx, response, case):
    if COUNT_FILE:
        with open(COUNT_FILE, "a") as f:
            f.write(f"{response.status_code}\n")
    if response.status_code >= 500:
        raise AssertionError(f"HTTP {response.status_code}: {response.text[:500]}")
    try:
        body = json.loads(response.text)
    except ValueError:
        raise AssertionError(f"not JSON (HTTP {response.status_code}): {response.text[:200]}")
    if not isinstance(body, dict) or not ("data" in body or "errors" in body):
        raise AssertionError(f"not a GraphQL response: {response.text[:200]}")
    for e in body.get("errors") or []:
        code = (e.get("extensions") or {}).get("code")
        if not code:
            raise AssertionError(f"an error without extensions.code: {e}")
        if code == "INTERNAL":
            raise AssertionError(f"INTERNAL: {e}")
        for loc in e.get("locations") or []:
            if loc.get("line", 0) < 1 or loc.get("column", 0) < 1:
                raise AssertionError(f"invalid location {loc} in {e}")
    return None


# The schema's own scalars (strings on the wire): schemathesis generates values for them from
# these strategies, mostly well-formed and sometimes not, so the refusals get fuzzed too.
from hypothesis import strategies as _st  # noqa: E402

_nodes = schemathesis.graphql.nodes
_scalars = {
    "Month": _st.one_of(_st.from_regex(r"\A(19|20)[0-9]{2}-(0[1-9]|1[0-2])\Z"), _st.text(max_size=8)),
    "Decimal": _st.one_of(_st.decimals(allow_nan=False, allow_infinity=False, places=2).map(str), _st.text(max_size=8)),
    "DateTime": _st.one_of(_st.datetimes().map(lambda d: d.isoformat() + "Z"), _st.text(max_size=8)),
    "NaiveDate": _st.one_of(_st.dates().map(lambda d: d.isoformat()), _st.text(max_size=8)),
}
for _name, _strategy in _scalars.items():
    schemathesis.graphql.scalar(_name, _strategy.map(_nodes.String))
