"""CodeDeploy's Lambda deployments, as records: the emulator shifts no traffic and watches no alarm.

When CloudFormation updates an alias under `UpdatePolicy: CodeDeployLambdaAliasUpdate`, AWS
starts a CodeDeploy deployment that moves the alias step by step and may be stopped by an alarm,
after which CodeDeploy rolls the alias back (a second deployment, `creator: codeDeployRollback`)
and the stack update fails. Here `shift` records the same deployments and ends them at once:
`Succeeded`, or however a test asked through

    POST /mumble-api/codedeploy/outcome
    {"deploymentGroup": "mumble-s-worker", "status": "Stopped", "alarm": "mumble-s-worker-errors"}
    {"deploymentGroup": "mumble-s-worker", "status": "Failed", "message": "..."}

which applies to the next deployment of that group only. GetDeployment and BatchGetDeployments
answer `errorInformation` and `rollbackInfo` (moto leaves them empty), GetDeploymentGroup its
`alarmConfiguration`.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from moto.codedeploy.models import codedeploy_backends
from moto.core.utils import utcnow

OUTCOME_PATH = "/mumble-api/codedeploy/outcome"

_outcomes: dict[str, dict[str, Any]] = {}
_lock = threading.Lock()

# What AWS says when a deployment group's alarm stops a deployment (errorInformation.message).
_ALARM_MESSAGE = (
    "One or more alarms have been activated according to the Amazon CloudWatch metrics you "
    "selected, and the affected deployments have been stopped. Activated alarms: <{alarm}>"
)


class DeploymentNotSucceeded(Exception):
    """Fails the alias update, as CloudFormation fails it after an unsuccessful deployment."""


def shift(
    account_id: str,
    region: str,
    application: str,
    group: str,
    function_name: str,
    alias: str,
    current: str,
    target: str,
) -> None:
    backend = codedeploy_backends[account_id][region]
    appspec = {
        "version": 0.0,
        "Resources": [
            {
                function_name: {
                    "Type": "AWS::Lambda::Function",
                    "Properties": {
                        "Name": function_name,
                        "Alias": alias,
                        "CurrentVersion": current,
                        "TargetVersion": target,
                    },
                }
            }
        ],
    }
    revision = {
        "revisionType": "AppSpecContent",
        "appSpecContent": {"content": json.dumps(appspec)},
    }
    with _lock:
        outcome = _outcomes.pop(group, None) or {"status": "Succeeded"}
    deployment_id = backend.create_deployment(application, group, revision)
    deployment = backend.deployments[deployment_id]
    deployment.creator = "user"
    deployment.start_time = deployment.complete_time = utcnow()
    deployment.status = outcome["status"]
    if deployment.status == "Succeeded":
        return
    if deployment.status == "Stopped":
        alarm = outcome.get("alarm", "")
        deployment.error_information = {
            "code": "ALARM_ACTIVE",
            "message": outcome.get("message") or _ALARM_MESSAGE.format(alarm=alarm),
        }
    else:
        deployment.error_information = {
            "code": outcome.get("code", "INTERNAL_ERROR"),
            "message": outcome.get("message", "The deployment failed"),
        }
    # CodeDeploy's automatic rollback: a deployment of its own, moving the alias back.
    back = dict(appspec)
    back["Resources"] = [
        {
            function_name: {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "Name": function_name,
                    "Alias": alias,
                    "CurrentVersion": target,
                    "TargetVersion": current,
                },
            }
        }
    ]
    rollback_id = backend.create_deployment(
        application,
        group,
        {"revisionType": "AppSpecContent", "appSpecContent": {"content": json.dumps(back)}},
    )
    rollback = backend.deployments[rollback_id]
    rollback.creator = "codeDeployRollback"
    rollback.status = "Succeeded"
    rollback.start_time = rollback.complete_time = utcnow()
    rollback.rollback_info = {
        "rollbackTriggeringDeploymentId": deployment_id,
        "rollbackMessage": f"Rollback of deployment {deployment_id}",
    }
    deployment.rollback_info = {
        "rollbackDeploymentId": rollback_id,
        "rollbackMessage": f"Deployment rolled back by {rollback_id}",
    }
    raise DeploymentNotSucceeded(
        f"CodeDeploy deployment {deployment_id} of {application}/{group} is "
        f"{deployment.status}: {deployment.error_information['message']}"
    )


def _serve_outcome(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = json.loads(environ["wsgi.input"].read(length) or b"{}")
    group, status = body.get("deploymentGroup"), body.get("status")
    if not group or status not in ("Succeeded", "Stopped", "Failed"):
        start_response("400 Bad Request", [("Content-Type", "application/json")])
        return [
            b'{"message": "give deploymentGroup and status (Succeeded, Stopped or Failed)"}'
        ]
    with _lock:
        _outcomes[group] = body
    start_response("200 OK", [("Content-Type", "application/json")])
    return [b"{}"]


def install() -> None:
    from moto.codedeploy import responses
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    deployment_info = responses._deployment_info
    group_info = responses._deployment_group_info

    def with_error_and_rollback(deployment: Any) -> dict[str, Any]:
        info = deployment_info(deployment)
        info["errorInformation"] = getattr(deployment, "error_information", {})
        info["rollbackInfo"] = getattr(deployment, "rollback_info", {})
        return info

    def with_alarms(group: Any) -> dict[str, Any]:
        info = group_info(group)
        info["alarmConfiguration"] = group.alarm_configuration or {}
        return info

    responses._deployment_info = with_error_and_rollback
    responses._deployment_group_info = with_alarms

    original_call = DomainDispatcherApplication.__call__

    def call(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO") == OUTCOME_PATH and environ.get("REQUEST_METHOD") == "POST":
            return _serve_outcome(environ, start_response)
        return original_call(self, environ, start_response)

    DomainDispatcherApplication.__call__ = call
