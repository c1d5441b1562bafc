"""Resource-level IAM checks for the services our roles scope by ARN.

With IAM enforced (`POST /moto-api/reset-auth`), moto checks every request's action against the
caller's policies, but only S3, SQS, IAM and STS tell it *which resource* the request is for;
every other service is checked against `*`, which a statement scoped to an ARN never matches, so
a least-privilege role is refused everything. This names the resource as AWS does for the calls
our functions and our deploy make, so that a statement for the wrong table, parameter, function
or stack is refused as on AWS:

- DynamoDB: the table (`TableName`), or its index when the request names `IndexName`;
- SSM: every parameter the request names (`Name`, or each of `Names`): `GetParameters` is
  allowed only when each of its parameters is;
- Lambda: the function in the path (`Invoke`, `GetFunction`, ...);
- CloudFormation: the stack (`StackName`, or the stack of the change set `ChangeSetName` names);
- CloudFront: the distribution in the path (`CreateInvalidation`, `GetInvalidation`, ...).

- S3 `DeleteObjects`: each key (moto checks the bucket).
- DynamoDB `TransactWriteItems` and `TransactGetItems`: IAM has no such actions; AWS authorizes
  each item's own action (`PutItem`, `UpdateItem`, `DeleteItem`, `ConditionCheckItem`,
  `GetItem`) on its table, and so does this.

Signatures are not verified (the access key and session token must still be known): moto
recomputes a query-protocol request's signature from a re-encoded form that differs from the
Rust SDK's. It also reads the inline policies of roles made by CloudFormation, which moto stores in a shape
its own checks cannot read.

Requests these do not recognise are still checked against `*`, as moto does. Conditions in
identity policies are not evaluated by moto at all (README.md says so).

Every refusal is also written to the emulator's log as one line,
`mumble-iam denied ACCESS_KEY_ID SERVICE:ACTION RESOURCE`, so a test can say which action on
which resource a role lacks.
"""

from __future__ import annotations

import json
import sys
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse


def _json_body(response: Any) -> dict[str, Any]:
    """The request's JSON parameters (DynamoDB has parsed them into `body` already)."""
    body = response.body
    if isinstance(body, dict):
        return body
    try:
        parsed = json.loads(body or "{}")
    except (TypeError, ValueError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _dynamodb(response: Any, region: str, account: str) -> list[str]:
    body = _json_body(response)
    table = body.get("TableName")
    if not isinstance(table, str):
        return []
    arn = f"arn:aws:dynamodb:{region}:{account}:table/{table}"
    index = body.get("IndexName")
    return [f"{arn}/index/{index}" if isinstance(index, str) else arn]


def _ssm(response: Any, region: str, account: str) -> list[str]:
    body = _json_body(response)
    names = body.get("Names")
    if not isinstance(names, list):
        name = body.get("Name")
        names = [name] if isinstance(name, str) else []
    return [
        f"arn:aws:ssm:{region}:{account}:parameter/{name.lstrip('/')}"
        for name in names
        if isinstance(name, str) and not name.startswith("arn:")
    ] + [name for name in names if isinstance(name, str) and name.startswith("arn:")]


def _lambda(response: Any, region: str, account: str) -> list[str]:
    parts = response.path.split("?")[0].split("/")
    if "functions" not in parts:
        return []
    index = parts.index("functions") + 1
    if index >= len(parts) or not parts[index]:
        return []
    name = unquote(parts[index])
    if name.startswith("arn:"):
        return [name]
    return [f"arn:aws:lambda:{region}:{account}:function:{name}"]


def _cloudfront(response: Any, region: str, account: str) -> list[str]:
    parts = response.path.split("?")[0].split("/")
    if "distribution" not in parts:
        return []
    index = parts.index("distribution") + 1
    if index >= len(parts) or not parts[index]:
        return []
    return [f"arn:aws:cloudfront::{account}:distribution/{parts[index]}"]


def _cloudformation(response: Any, region: str, account: str) -> list[str]:
    from moto.cloudformation.models import cloudformation_backends

    backend = cloudformation_backends[account][region]
    name = response._get_param("StackName")
    change_set = response._get_param("ChangeSetName")
    if not name and isinstance(change_set, str) and change_set.startswith("arn:"):
        found = backend.change_sets.get(change_set)
        if found is not None:
            return [found.stack_id]
    if not isinstance(name, str) or not name:
        return []
    if name.startswith("arn:"):
        return [name]
    for stack in list(backend.stacks.values()):
        if stack.name == name and stack.status != "DELETE_COMPLETE":
            return [stack.stack_id]
    # A stack that does not exist yet: AWS checks `stack/NAME/*` for its creation.
    return [f"arn:aws:cloudformation:{region}:{account}:stack/{name}/*"]


def _s3_delete_keys(response: Any, bucket_arn: str) -> list[str]:
    """DeleteObjects: AWS allows each key only with `s3:DeleteObject` on that key; moto checks the
    bucket's ARN, which a statement scoped to a key prefix never matches."""
    import xmltodict

    if response.data.get("Action") != "DeleteObject" or "delete" not in response.querystring:
        return []
    try:
        objects = xmltodict.parse(response.body)["Delete"].get("Object", [])
    except Exception:  # noqa: BLE001 - moto answers MalformedXML itself
        return []
    if not isinstance(objects, list):
        objects = [objects]
    return [f"{bucket_arn}/{obj['Key']}" for obj in objects if isinstance(obj, dict)]


_RESOURCES = {
    "dynamodb": _dynamodb,
    "ssm": _ssm,
    "awslambda": _lambda,
    "cloudformation": _cloudformation,
    "cloudfront": _cloudfront,
}


def _resources(response: Any, resource: str) -> list[str]:
    service = response.service_name or ""
    if service == "s3":
        return _s3_delete_keys(response, resource) or [resource]
    find = _RESOURCES.get(service)
    if resource != "*" or find is None:
        return [resource]
    try:
        return find(response, response.region, response.current_account) or [resource]
    except Exception:  # noqa: BLE001 - an unreadable request is checked against `*`
        return [resource]


def _action(response: Any) -> str:
    service = {"awslambda": "lambda"}.get(response.service_name, response.service_name)
    action = response.data.get("Action") if service == "s3" else response._get_action()
    if isinstance(action, list):
        action = action[0]
    return f"{service}:{action}"


def _access_key(response: Any) -> str:
    authorization = response.headers.get("Authorization", "")
    return authorization.partition("Credential=")[2].partition("/")[0] or "-"


def _read_policy_documents_as_stored_by_cloudformation() -> None:
    """A role made by CloudFormation keeps each inline policy as a dict, where moto's checks
    expect JSON text: every request of such a role failed with HTTP 500 (KeyError)."""
    from moto.iam.access_control import IAMPolicy

    original = IAMPolicy.__init__

    def init(self: Any, policy: Any) -> None:
        if isinstance(policy, dict) and "Statement" in policy:
            policy = json.dumps(policy)
        original(self, policy)

    IAMPolicy.__init__ = init


def _presigned_headers(response: Any) -> dict[str, str] | None:
    """A presigned S3 URL carries its credential in the query, where moto's check (which reads
    the `Authorization` header) failed with HTTP 500. The caller is taken from the query; the
    signature is not verified (it never is for presigned URLs here, see README.md)."""
    if "Authorization" in response.headers:
        return None
    query = parse_qs(urlparse(response.uri).query)
    if "X-Amz-Credential" in query:  # SigV4, as the Rust SDK presigns
        credential = query["X-Amz-Credential"][0]
    elif "AWSAccessKeyId" in query:  # SigV2, boto3's default for S3
        credential = f"{query['AWSAccessKeyId'][0]}/20000101/{response.region}/s3/aws4_request"
    else:
        return None
    headers = dict(response.headers)
    headers["Authorization"] = f"AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders=host, Signature=0"
    token = query.get("X-Amz-Security-Token") or query.get("x-amz-security-token")
    if token:
        headers["X-Amz-Security-Token"] = token[0]
    return headers


_DYNAMODB_ITEM_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}


def _dynamodb_transaction_items(response: Any) -> list[tuple[str, str]]:
    """`(action, table ARN)` for each item of a DynamoDB transaction; empty for other requests."""
    if response.service_name != "dynamodb" or response._get_action() not in (
        "TransactWriteItems",
        "TransactGetItems",
    ):
        return []
    checks = []
    for item in _json_body(response).get("TransactItems", []):
        for kind, params in item.items():
            action = _DYNAMODB_ITEM_ACTIONS.get(kind)
            table = params.get("TableName") if isinstance(params, dict) else None
            if action and isinstance(table, str):
                arn = f"arn:aws:dynamodb:{response.region}:{response.current_account}:table/{table}"
                checks.append((f"dynamodb:{action}", arn))
    return checks


# Operations whose IAM action has another name than the operation (moto checks the operation's).
_IAM_ACTION_OF_OPERATION = {"lambda:Invoke": "lambda:InvokeFunction"}


def _as_action(iam_request_cls: type, action: str) -> type:
    class ItemRequest(iam_request_cls):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._action = action

    return ItemRequest


def _without_signature_check(iam_request_cls: type) -> type:
    class Presigned(iam_request_cls):  # type: ignore[misc, valid-type]
        def check_signature(self) -> None:
            return None

    return Presigned


def _conditional_denies_narrow_nothing() -> None:
    """moto evaluates no conditions, so a conditional Deny would deny every request of its actions
    (a bootstrap role's "not another stage's tagged resources" would refuse its own stage). Such a
    Deny is not applied here; the templates' property tests check those statements instead."""
    from moto.iam.access_control import IAMPolicyStatement, PermissionResult

    original = IAMPolicyStatement.is_action_permitted

    def is_action_permitted(self: Any, *args: Any, **kwargs: Any) -> Any:
        if self._statement.get("Effect") == "Deny" and self._statement.get("Condition"):
            return PermissionResult.NEUTRAL
        return original(self, *args, **kwargs)

    IAMPolicyStatement.is_action_permitted = is_action_permitted


def install() -> None:
    from moto import settings
    from moto.core.authorization import ActionAuthenticatorMixin

    _read_policy_documents_as_stored_by_cloudformation()
    _conditional_denies_narrow_nothing()

    original = ActionAuthenticatorMixin._authenticate_and_authorize_action

    def authorize_each_resource(self: Any, iam_request_cls: type, resource: str = "*") -> None:
        if ActionAuthenticatorMixin.request_count < settings.INITIAL_NO_AUTH_ACTION_COUNT:
            # Not enforcing (yet): moto only counts the request.
            return original(self, iam_request_cls, resource)
        # Signatures are not verified: moto recomputes a query-protocol request's signature from
        # its re-encoded form, which differs from the Rust SDK's encoding (SignatureDoesNotMatch
        # for every CloudFormation call). The access key and session token must still be known.
        iam_request_cls = _without_signature_check(iam_request_cls)
        presigned = _presigned_headers(self)
        if presigned is not None:
            self.headers, headers = presigned, self.headers
        renamed = _IAM_ACTION_OF_OPERATION.get(_action(self))
        if renamed:
            iam_request_cls = _as_action(iam_request_cls, renamed)
        try:
            items = _dynamodb_transaction_items(self) if resource == "*" else []
            for action, each in items:
                _authorize_one(self, _as_action(iam_request_cls, action), each, action)
            if not items:
                for each in _resources(self, resource):
                    _authorize_one(self, iam_request_cls, each, renamed)
        finally:
            if presigned is not None:
                self.headers = headers

    def _authorize_one(
        self: Any, iam_request_cls: type, each: str, action: str | None = None
    ) -> None:
        try:
            original(self, iam_request_cls, each)
        except Exception as error:
            if "AccessDenied" in type(error).__name__:
                # One line per refusal, for tests to name what a role lacks (AWS's own
                # messages do not always name the resource, S3's never do).
                print(
                    f"mumble-iam denied {_access_key(self)} {action or _action(self)} {each}",
                    file=sys.stderr,
                    flush=True,
                )
            raise

    ActionAuthenticatorMixin._authenticate_and_authorize_action = authorize_each_resource
