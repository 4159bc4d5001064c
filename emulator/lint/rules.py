"""The lint rules: configuration AWS accepts but that fails in production. Each rule reads a ``LintContext`` and
records its findings there; ids are stable (silenced by id in the spec), never reused."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from emulator.esm.core.filters import CompiledPattern
from emulator.lint.model import LintContext, Rule
from emulator.spec.mapping import MappingSpec
from emulator.spec.yamlsrc import KeyPath

_LAMBDA_DG = "https://docs.aws.amazon.com/lambda/latest/dg"
# Defaults AWS applies when a mapping leaves BatchSize unset
# (https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html#lambda-CreateEventSourceMapping-request-BatchSize).
DEFAULT_BATCH = {"stream": 100, "table": 100, "queue": 10}
# The errors AWS recommends retrying on every Lambda task
# (https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html).
LAMBDA_TRANSIENT = ("Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException",
                    "Lambda.TooManyRequestsException")

PM001 = Rule("PM001", "error", "stream mapping retries without end and has no on-failure destination",
             f"{_LAMBDA_DG}/kinesis-on-failure-destination.html",
             "set maximum_retry_attempts and maximum_record_age_in_seconds (both default to -1, unbounded) and "
             "on_failure: queue/NAME, so one poison record cannot block its shard until it expires")
PM002 = Rule("PM002", "warning", "one bad record fails and retries its whole batch",
             f"{_LAMBDA_DG}/services-kinesis-batchfailurereporting.html",
             "set bisect_batch_on_function_error: true, or function_response_types: [ReportBatchItemFailures] "
             "and return batchItemFailures from the handler")
PM003 = Rule("PM003", "warning", "SQS source queue has no redrive policy",
             f"{_LAMBDA_DG}/services-sqs-errorhandling.html",
             "add redrive: {dead_letter: NAME, max_receive_count: 5} to the queue, or a message that always fails "
             "is retried until it expires")
PM004 = Rule("PM004", "warning", "queue visibility timeout below 6 x the function timeout",
             f"{_LAMBDA_DG}/services-sqs-configure.html",
             "AWS recommends a source queue visibility timeout of at least 6 x the function timeout plus the "
             "batching window, so a message is not received again while a retry of its batch still runs")
PM005 = Rule("PM005", "warning", "a full batch takes longer than the function timeout (measured)",
             f"{_LAMBDA_DG}/configuration-timeout.html",
             "raise the function's timeout or lower the mapping's batch_size; the estimate is the last run's "
             "median invocation time per record times the batch size")
PM006 = Rule("PM006", "warning", "batching window with batch size 1",
             f"{_LAMBDA_DG}/invocation-eventsourcemapping.html#invocation-eventsourcemapping-batching",
             "a batch of 1 is full as soon as one record arrives, so the window only adds latency: remove "
             "maximum_batching_window_in_seconds or raise batch_size")
PM007 = Rule("PM007", "warning", "ParallelizationFactor > 1 where the scenario expects order",
             f"{_LAMBDA_DG}/with-kinesis.html",
             "with a parallelization factor Lambda keeps order per partition key only, not per shard: make the "
             "ordering key the partition key (events.partition_key) or set parallelization_factor: 1")
PM008 = Rule("PM008", "warning", "wildcard action or resource in a policy",
             "https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#grant-least-privilege",
             "name the actions and resource ARNs the function needs; `pipemu policy FUNCTION` prints what a run "
             "used")
PM009 = Rule("PM009", "error", "resource without declared encryption while require_encryption is set",
             "https://docs.aws.amazon.com/kms/latest/developerguide/services-kms.html",
             "declare encryption: KMS or {kms: alias/NAME} (streams), AES256 or KMS (buckets), SQS or KMS (queues)")
PM010 = Rule("PM010", "warning", "Lambda task without a Retry for Lambda's transient errors",
             "https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html",
             "add " + json.dumps({"Retry": [{"ErrorEquals": list(LAMBDA_TRANSIENT), "IntervalSeconds": 1,
                                             "MaxAttempts": 3, "BackoffRate": 2}]})[1:-1])
PM011 = Rule("PM011", "warning", "Kinesis filter on a key other than data",
             f"{_LAMBDA_DG}/with-kinesis-filtering.html",
             "AWS documents filtering of Kinesis records on the data key only: put the field into the record's "
             "data and filter on {\"data\": {...}}; pipemu matches the record's other keys too, AWS may not")
RULES = (PM001, PM002, PM003, PM004, PM005, PM006, PM007, PM008, PM009, PM010, PM011)


def _mappings(ctx: LintContext, kind: str) -> Iterator[tuple[KeyPath, MappingSpec]]:
    """Mappings of one kind of source; "stream" means Kinesis and DynamoDB streams alike (same retry model)."""
    kinds = ("stream", "table") if kind == "stream" else (kind,)
    for index, mapping in enumerate(ctx.spec.mappings):
        if mapping.source_kind in kinds:
            yield ("mappings", index), mapping


def _unbounded(value: int | None) -> bool:
    return value is None or value == -1


def unbounded_retries(ctx: LintContext) -> None:
    for at, m in _mappings(ctx, "stream"):
        if m.on_failure is not None:
            continue
        what = [text for text, value in (("maximum_retry_attempts", m.maximum_retry_attempts),
                                         ("maximum_record_age_in_seconds", m.maximum_record_age_in_seconds))
                if _unbounded(value)]
        if what:
            ctx.hit(PM001, f"{' and '.join(what)} {'is' if len(what) == 1 else 'are'} unbounded (-1) and no "
                    f"on_failure is set: a failing batch of {m.source} is retried until its records expire, "
                    "then dropped without a trace", at)


def whole_batch_retries(ctx: LintContext) -> None:
    for at, m in _mappings(ctx, "stream"):
        size = m.batch_size or DEFAULT_BATCH["stream"]
        partial = "ReportBatchItemFailures" in (m.function_response_types or [])
        if size > 1 and not m.bisect_batch_on_function_error and not partial:
            ctx.hit(PM002, f"batch_size {size} with bisect off and no ReportBatchItemFailures: one failing "
                    f"record retries all {size} records of its batch", at)


def queue_without_redrive(ctx: LintContext) -> None:
    for at, m in _mappings(ctx, "queue"):
        if ctx.spec.queues[m.source_name].redrive is None:
            ctx.hit(PM003, f"queue '{m.source_name}' feeds {m.function} and has no redrive policy",
                    ("queues", m.source_name), at, ("queues", m.source_name))


def visibility_timeout(ctx: LintContext) -> None:
    for at, m in _mappings(ctx, "queue"):
        queue, fn = ctx.spec.queues[m.source_name], ctx.spec.functions[m.function]
        wanted = 6 * fn.timeout + (m.maximum_batching_window_in_seconds or 0)
        if queue.visibility_timeout < wanted:
            ctx.hit(PM004, f"queue '{m.source_name}' visibility_timeout {queue.visibility_timeout}s is below "
                    f"6 x {m.function}'s timeout {fn.timeout}s"
                    + (f" + window {m.maximum_batching_window_in_seconds}s" if m.maximum_batching_window_in_seconds
                       else "") + f" = {wanted}s", ("queues", m.source_name, "visibility_timeout"),
                    at, ("queues", m.source_name), ("functions", m.function))


def measured_batch_time(ctx: LintContext) -> None:
    """Skipped without a report of a run of this pipeline (its mappings named as this pipeline's are)."""
    measured = ctx.measured or {}
    functions, mappings = measured.get("functions") or {}, measured.get("mappings") or {}
    for index, m in enumerate(ctx.spec.mappings):
        stats, fn_stats = mappings.get(f"{m.source} -> {m.function}"), functions.get(m.function)
        if not isinstance(stats, dict) or not isinstance(fn_stats, dict):
            continue
        records = sum(float(stats.get(k) or 0) for k in ("records_succeeded", "records_dead_lettered"))
        invocations, p50 = float(stats.get("invocations") or 0), fn_stats.get("duration_ms_p50")
        if not invocations or not records or not isinstance(p50, int | float):
            continue
        per_record = p50 / (records / invocations)
        size = m.batch_size or DEFAULT_BATCH[m.source_kind]
        timeout_ms = ctx.spec.functions[m.function].timeout * 1000
        if per_record * size > timeout_ms:
            ctx.hit(PM005, f"{m.function} took {per_record:.1f} ms per record in the last run ({p50:.0f} ms median "
                    f"for {records / invocations:.1f} records); a full batch of {size} would take about "
                    f"{per_record * size / 1000:.1f}s, over its {timeout_ms // 1000}s timeout",
                    ("mappings", index, "batch_size"), ("mappings", index), ("functions", m.function))


def window_with_batch_of_one(ctx: LintContext) -> None:
    for index, m in enumerate(ctx.spec.mappings):
        if m.batch_size == 1 and m.maximum_batching_window_in_seconds:
            ctx.hit(PM006, f"maximum_batching_window_in_seconds {m.maximum_batching_window_in_seconds} with "
                    "batch_size 1 only delays each record", ("mappings", index, "maximum_batching_window_in_seconds"))


def parallel_lanes_vs_order(ctx: LintContext) -> None:
    scenario = ctx.scenario
    if scenario is None or scenario.expect.order is None:
        return
    key = scenario.events.partition_key
    for at, m in _mappings(ctx, "stream"):
        if (m.parallelization_factor or 1) > 1:
            keyed = f"its partition key '{key}'" if key else "no partition key (each event gets its own)"
            ctx.hit(PM007, f"parallelization_factor {m.parallelization_factor} processes a shard's records in "
                    f"{m.parallelization_factor} lanes, ordered per partition key only; scenario "
                    f"'{scenario.name}' expects order and has {keyed}", (*at, "parallelization_factor"))


def kinesis_filters_beyond_data(ctx: LintContext) -> None:
    for index, m in enumerate(ctx.spec.mappings):
        if m.source_kind != "stream":
            continue
        for number, pattern in enumerate(m.filters or []):  # valid: the spec refuses what does not compile
            keys = sorted(CompiledPattern.compile(json.dumps(pattern)).fields - {"data"})
            if keys:
                ctx.hit(PM011, f"filter {number + 1} of the mapping of {m.source} names {', '.join(keys)}",
                        ("mappings", index, "filters", number), ("mappings", index))


def _wildcard_action(action: str) -> bool:
    return "*" in action or "?" in action


def _wildcard_resource(resource: str) -> bool:
    return resource == "*" or resource.endswith(":*")


def wildcard_policies(ctx: LintContext) -> None:
    for name, fn in ctx.spec.functions.items():
        for index, statement in enumerate(fn.policies or []):
            if statement.effect != "Allow":
                continue  # a broad Deny narrows what is allowed
            at = ("functions", name, "policies", index)
            broad = [a for a in statement.action or [] if _wildcard_action(a)]
            if statement.not_action is not None:
                broad.append("NotAction (everything else)")
            if broad:
                ctx.hit(PM008, f"{name} is allowed wildcard actions {', '.join(broad)}", (*at, "Action"),
                        ("functions", name))
            wide = [r for r in statement.resource or [] if _wildcard_resource(r)]
            if statement.not_resource is not None:
                wide.append("NotResource (everything else)")
            if wide:
                ctx.hit(PM008, f"{name} is allowed on every resource ({', '.join(wide)})", (*at, "Resource"),
                        ("functions", name))


def missing_encryption(ctx: LintContext) -> None:
    """Tables are left out: DynamoDB encrypts every table at rest (an AWS owned key unless one is chosen)."""
    if not ctx.spec.require_encryption:
        return
    for section, what in (("streams", "stream"), ("buckets", "bucket"), ("queues", "queue")):
        for name, body in getattr(ctx.spec, section).items():
            if body.encryption is None:
                ctx.hit(PM009, f"{what} '{name}' declares no encryption and require_encryption is set",
                        (section, name))


def lambda_task_retries(ctx: LintContext) -> None:
    from emulator.stepfunctions.definition import load_definition

    for name, sm in ctx.spec.state_machines.items():
        doc = load_definition(sm.definition)
        for path, state_name, state in _states(doc.data, ()):
            if state.get("Type") != "Task" or not _invokes_lambda(state.get("Resource")):
                continue
            covered: set[str] = set()
            for retrier in state.get("Retry") or []:
                if isinstance(retrier, dict) and isinstance(retrier.get("ErrorEquals"), list):
                    covered.update(str(e) for e in retrier["ErrorEquals"])
            missing = [e for e in LAMBDA_TRANSIENT if e not in covered]
            if missing and not covered & {"States.ALL", "States.TaskFailed"}:
                ctx.hit(PM010, f"state machine '{name}' state '{state_name}' invokes Lambda without a Retry for "
                        f"{', '.join(missing)}", ("state_machines", name), file=doc.file,
                        line=doc.line_for(path))


def _invokes_lambda(resource: Any) -> bool:
    if not isinstance(resource, str):
        return False
    return (resource.startswith(("arn:aws:states:::lambda:invoke", "${function:"))
            or (":lambda:" in resource and ":function:" in resource))


def _states(machine: Any, at: KeyPath) -> Iterator[tuple[KeyPath, str, dict[str, Any]]]:
    """Every state of a definition, Parallel branches and Map processors included, with its key path."""
    states = machine.get("States") if isinstance(machine, dict) else None
    for name, state in (states or {}).items():
        if not isinstance(state, dict):
            continue
        path = (*at, "States", name)
        yield path, name, state
        for index, branch in enumerate(state.get("Branches") or []):
            yield from _states(branch, (*path, "Branches", index))
        for key in ("ItemProcessor", "Iterator"):
            if isinstance(state.get(key), dict):
                yield from _states(state[key], (*path, key))


CHECKS: tuple[Callable[[LintContext], None], ...] = (
    unbounded_retries, whole_batch_retries, queue_without_redrive, visibility_timeout, measured_batch_time,
    window_with_batch_of_one, parallel_lanes_vs_order, wildcard_policies, missing_encryption, lambda_task_retries,
    kinesis_filters_beyond_data,
)
