"""EventBridge rules deliver S3 events the way AWS does when other rules exist.

moto hands every event to every rule and stops at the first rule that raises, silently
(the S3 side catches everything). Two things made that happen with our app stack deployed:
a schedule-only rule (the hourly cleanup) has no pattern, which moto matched against every
event; and a Lambda target is not implemented, so that rule raised. The image-created rule
then never saw the bucket's events. On AWS a schedule rule matches no events and one rule's
target cannot stop another rule. Here: schedule-only rules match nothing, Lambda targets are
skipped (the emulator cannot run our functions; AWS would invoke them asynchronously), and each
remaining target is delivered on its own.
"""

from __future__ import annotations

import copy
import functools
import logging
from typing import Any

from moto.events.models import Rule

logger = logging.getLogger(__name__)


def install() -> None:
    send = Rule.send_to_targets

    @functools.wraps(send)
    def send_to_targets(self: Rule, original_event: Any, transform_input: bool = True) -> None:
        if self.scheduled_expression and not self.event_pattern.get_pattern():
            return
        for target in self.targets:
            if ":lambda:" in target["Arn"]:
                continue
            one_target = copy.copy(self)
            one_target.targets = [target]
            try:
                send(one_target, original_event, transform_input)
            except Exception:
                logger.exception("rule %s could not deliver to %s", self.name, target["Arn"])

    Rule.send_to_targets = send_to_targets  # type: ignore[method-assign]
