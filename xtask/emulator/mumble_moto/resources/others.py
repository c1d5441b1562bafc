"""The remaining types our stacks use that moto's CloudFormation skips, one small handler each."""

from __future__ import annotations

import json
from typing import Any

from moto.acm.models import acm_backends
from moto.awslambda.utils import get_backend as lambda_backend
from moto.cloudwatch.models import (
    Dimension,
    Metric,
    MetricDataQuery,
    MetricStat,
    cloudwatch_backends,
)
from moto.iam.models import iam_backends
from moto.logs.models import logs_backends
from moto.s3.models import s3_backends
from moto.sns.models import sns_backends
from moto.utilities.utils import get_partition

from .base import EmulatedResource, lower_camel, tag_list


class Alarm(EmulatedResource):
    TYPE = "AWS::CloudWatch::Alarm"
    NAME_PROPERTY = "AlarmName"
    ATTRIBUTES = ("Arn",)

    @staticmethod
    def _queries(metrics: list[dict[str, Any]] | None) -> list[MetricDataQuery] | None:
        if not metrics:
            return None
        queries = []
        for query in metrics:
            stat = query.get("MetricStat")
            metric_stat = None
            if stat:
                metric = stat["Metric"]
                metric_stat = MetricStat(
                    metric=Metric(
                        metric_name=metric["MetricName"],
                        namespace=metric["Namespace"],
                        dimensions=[
                            Dimension(name=d["Name"], value=d["Value"])
                            for d in metric.get("Dimensions", [])
                        ],
                    ),
                    period=stat["Period"],
                    stat=stat["Stat"],
                    unit=stat.get("Unit"),
                )
            queries.append(
                MetricDataQuery(
                    query_id=query["Id"],
                    label=query.get("Label"),  # type: ignore[arg-type]
                    period=query.get("Period"),  # type: ignore[arg-type]
                    return_data=query.get("ReturnData"),  # type: ignore[arg-type]
                    expression=query.get("Expression"),
                    metric_stat=metric_stat,
                )
            )
        return queries

    @classmethod
    def create(cls, account_id: str, region: str, name: str, props: dict[str, Any]) -> Alarm:
        cloudwatch_backends[account_id][region].put_metric_alarm(
            name=name,
            namespace=props.get("Namespace"),  # type: ignore[arg-type]
            metric_name=props.get("MetricName"),  # type: ignore[arg-type]
            metric_data_queries=cls._queries(props.get("Metrics")),
            comparison_operator=props["ComparisonOperator"],
            evaluation_periods=int(props["EvaluationPeriods"]),
            datapoints_to_alarm=props.get("DatapointsToAlarm"),
            period=props.get("Period"),  # type: ignore[arg-type]
            threshold=props.get("Threshold"),  # type: ignore[arg-type]
            statistic=props.get("Statistic"),  # type: ignore[arg-type]
            extended_statistic=props.get("ExtendedStatistic"),
            description=props.get("AlarmDescription"),  # type: ignore[arg-type]
            dimensions=props.get("Dimensions", []),
            alarm_actions=props.get("AlarmActions", []),
            ok_actions=props.get("OKActions", []),
            insufficient_data_actions=props.get("InsufficientDataActions", []),
            unit=props.get("Unit"),
            actions_enabled=props.get("ActionsEnabled", True),
            treat_missing_data=props.get("TreatMissingData"),
            evaluate_low_sample_count_percentile=props.get("EvaluateLowSampleCountPercentile"),
            threshold_metric_id=props.get("ThresholdMetricId"),
            tags=tag_list(props.get("Tags")),
        )
        return cls(account_id, region, name, name, props)

    def update(self, name: str, props: dict[str, Any]) -> Alarm:
        if name == self.name:
            # PutMetricAlarm on an existing name updates it in place, as AWS does.
            return type(self).create(self.account_id, self.region, name, props)
        return super().update(name, props)

    def remove(self) -> None:
        cloudwatch_backends[self.account_id][self.region].delete_alarms([self.name])

    def attribute(self, name: str) -> Any:
        alarm = cloudwatch_backends[self.account_id][self.region].alarms[self.name]
        return alarm.alarm_arn


class BucketPolicy(EmulatedResource):
    TYPE = "AWS::S3::BucketPolicy"

    @staticmethod
    def _put(account_id: str, region: str, props: dict[str, Any]) -> None:
        policy = json.dumps(props["PolicyDocument"]).encode()
        s3_backends[account_id][get_partition(region)].put_bucket_policy(props["Bucket"], policy)

    @classmethod
    def create(cls, account_id: str, region: str, name: str, props: dict[str, Any]) -> BucketPolicy:
        cls._put(account_id, region, props)
        return cls(account_id, region, name, props["Bucket"], props)

    def update(self, name: str, props: dict[str, Any]) -> BucketPolicy:
        if props["Bucket"] != self.props["Bucket"]:
            return super().update(name, props)
        self._put(self.account_id, self.region, props)
        self.props = props
        return self

    def remove(self) -> None:
        s3_backends[self.account_id][get_partition(self.region)].delete_bucket_policy(
            self.props["Bucket"]
        )


class EventInvokeConfig(EmulatedResource):
    TYPE = "AWS::Lambda::EventInvokeConfig"

    @staticmethod
    def _put(account_id: str, region: str, props: dict[str, Any]) -> None:
        config = {
            k: props[k]
            for k in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds", "DestinationConfig")
            if k in props
        }
        backend = lambda_backend(account_id, region)
        function = props["FunctionName"]
        backend.get_function(function).event_invoke_config = []
        backend.put_function_event_invoke_config(function, config)

    @classmethod
    def create(
        cls, account_id: str, region: str, name: str, props: dict[str, Any]
    ) -> EventInvokeConfig:
        cls._put(account_id, region, props)
        physical_id = f"{props['FunctionName']}|{props.get('Qualifier', '$LATEST')}"
        return cls(account_id, region, name, physical_id, props)

    def update(self, name: str, props: dict[str, Any]) -> EventInvokeConfig:
        if props["FunctionName"] != self.props["FunctionName"]:
            return super().update(name, props)
        self._put(self.account_id, self.region, props)
        self.props = props
        return self

    def remove(self) -> None:
        lambda_backend(self.account_id, self.region).delete_function_event_invoke_config(
            self.props["FunctionName"]
        )


class Permission(EmulatedResource):
    """Replaces moto's handler, which kept no statement id: Ref gave no id, delete did nothing."""

    TYPE = "AWS::Lambda::Permission"

    @classmethod
    def create(cls, account_id: str, region: str, name: str, props: dict[str, Any]) -> Permission:
        statement = {k: v for k, v in props.items() if k != "FunctionName"}
        statement["StatementId"] = name
        lambda_backend(account_id, region).add_permission(
            props["FunctionName"],
            None,
            json.dumps(statement),  # type: ignore[arg-type]
        )
        return cls(account_id, region, name, name, props)

    def remove(self) -> None:
        lambda_backend(self.account_id, self.region).remove_permission(
            self.props["FunctionName"], self.physical_id
        )


class Subscription(EmulatedResource):
    TYPE = "AWS::SNS::Subscription"
    ATTRIBUTES = ("Arn",)
    _ATTRIBUTE_PROPERTIES = (
        "DeliveryPolicy",
        "FilterPolicy",
        "FilterPolicyScope",
        "RawMessageDelivery",
        "RedrivePolicy",
    )

    @classmethod
    def create(cls, account_id: str, region: str, name: str, props: dict[str, Any]) -> Subscription:
        backend = sns_backends[account_id][props.get("Region", region)]
        subscription = backend.subscribe(props["TopicArn"], props["Endpoint"], props["Protocol"])
        created = cls(account_id, region, name, subscription.arn, props)
        created._set_attributes(props)
        return created

    def _set_attributes(self, props: dict[str, Any]) -> None:
        backend = sns_backends[self.account_id][props.get("Region", self.region)]
        for key in self._ATTRIBUTE_PROPERTIES:
            if key in props:
                value = props[key]
                value = json.dumps(value) if isinstance(value, dict) else str(value).lower()
                backend.set_subscription_attributes(self.physical_id, key, value)

    def update(self, name: str, props: dict[str, Any]) -> Subscription:
        replaced = ("TopicArn", "Endpoint", "Protocol", "Region")
        if any(props.get(k) != self.props.get(k) for k in replaced):
            return super().update(name, props)
        self._set_attributes(props)
        self.props = props
        return self

    def remove(self) -> None:
        region = self.props.get("Region", self.region)
        sns_backends[self.account_id][region].unsubscribe(self.physical_id)

    def attribute(self, name: str) -> Any:
        return self.physical_id


class OIDCProvider(EmulatedResource):
    TYPE = "AWS::IAM::OIDCProvider"
    ATTRIBUTES = ("Arn",)

    @classmethod
    def create(cls, account_id: str, region: str, name: str, props: dict[str, Any]) -> OIDCProvider:
        provider = iam_backends[account_id][get_partition(region)].create_open_id_connect_provider(
            url=props["Url"],
            thumbprint_list=props.get("ThumbprintList", []),
            client_id_list=props.get("ClientIdList", []),
            tags=tag_list(props.get("Tags")),
        )
        return cls(account_id, region, name, provider.arn, props)

    def update(self, name: str, props: dict[str, Any]) -> OIDCProvider:
        if props["Url"] != self.props["Url"]:
            return super().update(name, props)
        provider = iam_backends[self.account_id][
            get_partition(self.region)
        ].get_open_id_connect_provider(self.physical_id)
        provider.thumbprint_list = props.get("ThumbprintList", [])
        provider.client_id_list = props.get("ClientIdList", [])
        self.props = props
        return self

    def remove(self) -> None:
        iam_backends[self.account_id][get_partition(self.region)].delete_open_id_connect_provider(
            self.physical_id
        )

    def attribute(self, name: str) -> Any:
        return self.physical_id


class Certificate(EmulatedResource):
    TYPE = "AWS::CertificateManager::Certificate"

    @classmethod
    def create(cls, account_id: str, region: str, name: str, props: dict[str, Any]) -> Certificate:
        arn = acm_backends[account_id][region].request_certificate(
            domain_name=props["DomainName"],
            idempotency_token=None,  # type: ignore[arg-type]
            subject_alt_names=props.get("SubjectAlternativeNames", []),
            tags=tag_list(props.get("Tags")),
        )
        return cls(account_id, region, name, arn, props)

    def update(self, name: str, props: dict[str, Any]) -> Certificate:
        if {k: v for k, v in props.items() if k != "Tags"} == {
            k: v for k, v in self.props.items() if k != "Tags"
        }:
            self.props = props
            return self
        return super().update(name, props)

    def remove(self) -> None:
        acm_backends[self.account_id][self.region].delete_certificate(self.physical_id)


class MetricFilter(EmulatedResource):
    TYPE = "AWS::Logs::MetricFilter"
    NAME_PROPERTY = "FilterName"

    @classmethod
    def create(cls, account_id: str, region: str, name: str, props: dict[str, Any]) -> MetricFilter:
        logs_backends[account_id][region].put_metric_filter(
            filter_name=name,
            filter_pattern=props["FilterPattern"],
            log_group_name=props["LogGroupName"],
            # The Logs API spells the transformation keys camelCase.
            metric_transformations=lower_camel(props["MetricTransformations"]),
        )
        return cls(account_id, region, name, name, props)

    def update(self, name: str, props: dict[str, Any]) -> MetricFilter:
        if name == self.name and props["LogGroupName"] == self.props["LogGroupName"]:
            # PutMetricFilter on an existing name replaces its pattern in place, as AWS does.
            return type(self).create(self.account_id, self.region, name, props)
        return super().update(name, props)

    def remove(self) -> None:
        logs_backends[self.account_id][self.region].delete_metric_filter(
            filter_name=self.name, log_group_name=self.props["LogGroupName"]
        )


HANDLERS: list[type[EmulatedResource]] = [
    Alarm,
    BucketPolicy,
    EventInvokeConfig,
    Permission,
    Subscription,
    OIDCProvider,
    Certificate,
    MetricFilter,
]
