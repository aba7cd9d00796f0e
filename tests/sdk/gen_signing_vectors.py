#!/usr/bin/env python3
"""Generate AK/SK signing test vectors with the official Huawei Cloud Python SDK signer.

Writes tests/data/signing_vectors.json, read by the unit tests of src/api/signing.rs.

Setup (once):
    python3 -m venv /tmp/signvenv
    /tmp/signvenv/bin/pip install huaweicloudsdkcore==3.1.219
Run from the repository root:
    /tmp/signvenv/bin/python tests/sdk/gen_signing_vectors.py
(the venv that tests/sdk/run.sh builds from requirements.txt has the same package and works too).

Each request goes through BasicCredentials.sign_request, the path every SDK client call takes, so the SDK itself adds
X-Project-Id, X-Security-Token, X-Sdk-Content-Sha256 and Host. X-Sdk-Date is fixed so that the output is stable.
The canonical request and string to sign are captured by wrapping the signer's own methods, not recomputed here.
"""

import json
import pathlib
from urllib.parse import quote

from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer

SDK_DATE = "20240101T000000Z"
HOST = "127.0.0.1:8080"
PROJECT = "edcb94a885a84ed3a3fdf8ea4d2741da"
SERVER = "9c0b1a8e-3f6d-4e1b-8a4c-2d7e5f6a7b8c"
OUTPUT = pathlib.Path(__file__).resolve().parents[1] / "data" / "signing_vectors.json"

captured = {}
_original_canonical_request = Signer._process_canonical_request
_original_string_to_sign = Signer._process_string_to_sign


def _capture_canonical_request(self, request, signed_headers):
    captured["canonical_request"] = _original_canonical_request(self, request, signed_headers)
    return captured["canonical_request"]


def _capture_string_to_sign(self, canonical_request, signing_time):
    captured["string_to_sign"] = _original_string_to_sign(self, canonical_request, signing_time)
    return captured["string_to_sign"]


Signer._process_canonical_request = _capture_canonical_request
Signer._process_string_to_sign = _capture_string_to_sign


def json_body(document):
    """Serialise like the SDK does (json.dumps defaults: ", " and ": " separators, ASCII escapes)."""
    return json.dumps(document)


def sign(name, method, resource_path, query_params=None, headers=None, body=None, ak="AKTEST", sk="SKTEST",
         project_id=PROJECT, security_token=None):
    header_params = {"Content-Type": "application/json", "User-Agent": "huaweicloud-usdk-python/3.0",
                     "X-Sdk-Date": SDK_DATE}
    header_params.update(headers or {})
    credentials = BasicCredentials(ak, sk, project_id)
    if security_token:
        credentials.with_security_token(security_token)
    request = SdkRequest(method=method, schema="http", host=HOST, resource_path=resource_path,
                         query_params=list(query_params or []), header_params=header_params,
                         body=body.encode("utf-8") if body is not None else None)
    captured.clear()
    signed = credentials.sign_request(request)

    sent_headers = dict(signed.header_params)
    authorization = sent_headers.pop("Authorization")
    path, _, query = signed.uri.partition("?")
    return {
        "name": name,
        "method": method,
        "path": path,
        "query": query,
        # The signer rewrites values to their UTF-8 bytes read as ISO-8859-1 for the HTTP library; undo that to get
        # the text a server reading the bytes as UTF-8 sees.
        "headers": [[k, v.encode("iso-8859-1").decode("utf-8")] for k, v in sent_headers.items()],
        "body": body if body is not None else "",
        "ak": ak,
        "sk": sk,
        "expected_authorization": authorization,
        "expected_canonical_request": captured["canonical_request"],
        "expected_string_to_sign": captured["string_to_sign"],
    }


def with_raw_query(vector, name, raw_query, note):
    """The same signed request, sent with another spelling of the query that decodes to the same pairs."""
    return dict(vector, name=name, query=raw_query, note=note)


def main():
    vectors = []

    awkward_query = sign(
        "GET with awkward query characters and unicode",
        "GET", f"/v1/{PROJECT}/cloudservers/detail",
        query_params=[("name", "web server/x=y~!*'()"), ("tags", "k=v"), ("offset", 1), ("limit", 25),
                      ("status", "ACTIVE"), ("flavor", "c3.large.2"), ("description", "Grüße 世界 +plus&amp"),
                      ("not-tags", "")])
    vectors.append(awkward_query)
    # Node.js SDK style (spec 7.5): unsorted, with !'()* left unescaped; the signature must not change.
    node_style_pairs = [("description", "Grüße 世界 +plus&amp"), ("not-tags", ""), ("limit", "25"),
                        ("name", "web server/x=y~!*'()"), ("tags", "k=v"), ("offset", "1"),
                        ("status", "ACTIVE"), ("flavor", "c3.large.2")]
    node_safe = "!'()*~"
    node_style_query = "&".join(f"{quote(k, safe='')}={quote(v, safe=node_safe)}" for k, v in node_style_pairs)
    vectors.append(with_raw_query(awkward_query, "same GET, query unsorted with !'()* unescaped", node_style_query,
                                  "query spelled differently from the SDK; expected values are the SDK's"))

    vectors.append(sign(
        "GET with boolean and repeated (list) query values",
        "GET", f"/v1/{PROJECT}/cloudservers/detail",
        query_params=[("ip", ["192.168.0.9", "192.168.0.10"]), ("not_tags_any", True), ("enterprise_project_id", "0"),
                      ("expect-fields", False)]))

    vectors.append(sign(
        "POST batch start with JSON body",
        "POST", f"/v1/{PROJECT}/cloudservers/action",
        headers={"Content-Type": "application/json;charset=utf-8"},
        body=json_body({"os-start": {"servers": [{"id": SERVER}, {"id": "616fb98f-46ca-475e-917e-2563e5a8cd19"}]}})))

    vectors.append(sign(
        "POST create with X-Client-Token and non-ASCII body",
        "POST", f"/v1.1/{PROJECT}/cloudservers",
        headers={"Content-Type": "application/json;charset=utf-8", "X-Client-Token": "c0ffee-7d1b-idempotency"},
        body=json.dumps({"server": {"name": "服务器-01", "flavorRef": "s3.xlarge.2", "count": 2}},
                        ensure_ascii=False),
        ak="HPUAXXXXXXXXXXXXXXXX", sk="aBcD/eFgH+iJkL=mNoPqRsTuVwXyZ0123456789"))

    vectors.append(sign(
        "PUT rename with temporary credentials (X-Security-Token)",
        "PUT", f"/v1/{PROJECT}/cloudservers/{SERVER}",
        body=json_body({"server": {"name": "renamed", "description": "line1\nline2 \"quoted\""}}),
        ak="TMPAKEXAMPLE", sk="tmp-secret-key",
        security_token="gQpjbi1ub3J0aC00Ev8o/K+example+token/with=padding=="))

    vectors.append(sign(
        "DELETE metadata key with encoded space, slash and percent in the path",
        "DELETE", f"/v1/{PROJECT}/cloudservers/{SERVER}/metadata/" + quote("my key/with%~ü", safe=""),
        headers={"Content-Type": "application/json;charset=utf-8"}))

    vectors.append(sign(
        "GET with a non-JSON content type: UNSIGNED-PAYLOAD header but empty body",
        "GET", f"/v1/{PROJECT}/jobs/ff80808288d41e1b018a2b6c1e3f0a12",
        headers={"Content-Type": "text/plain"}))

    vectors.append(sign(
        "GET Nova versions at the root path, without project",
        "GET", "/", project_id=None,
        headers={"X-OpenStack-Nova-API-Version": "2.60"}))

    vectors.append(sign(
        "GET Nova path ending with a slash, header with padding and one with an underscore (unsigned)",
        "GET", f"/v2.1/{PROJECT}/servers/",
        headers={"OpenStack-API-Version": "  compute 2.26  ", "X_Trace_Id": "not-signed-by-the-sdk"},
        query_params=[("changes-since", "2024-01-01T00:00:00Z"), ("limit", 1)]))

    vectors.append(sign(
        "POST Nova action with a different date and non-ASCII header value",
        "POST", f"/v2.1/{PROJECT}/servers/{SERVER}/action",
        headers={"X-Sdk-Date": "20351231T235959Z", "X-Client-Token": "jeton-été"},
        body=json_body({"os-stop": None})))

    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(vectors, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {len(vectors)} vectors to {OUTPUT}")


if __name__ == "__main__":
    main()
