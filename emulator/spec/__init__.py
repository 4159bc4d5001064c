"""Pipeline and scenario specs: YAML in, frozen pydantic models out.

Every problem is a ConfigError naming file, line and key path.
"""

from emulator.spec.fields import (
    ChoiceField,
    ConstField,
    FakerField,
    FieldSpec,
    ListField,
    ObjectField,
    TemplateField,
    jsonable,
)
from emulator.spec.mapping import MappingSpec, ScalingConfig, split_ref
from emulator.spec.pipeline import (
    BucketSpec,
    FunctionDef,
    NotificationSpec,
    PipelineSpec,
    QueueSpec,
    RedriveSpec,
    StateMachineSpec,
    StreamSpec,
    TopicSpec,
    load_pipeline,
)
from emulator.spec.scenario import (
    DeadLettersSpec,
    DeliveredSpec,
    EventsSpec,
    ExpectSpec,
    FilteredSpec,
    LatencySpec,
    LostSpec,
    RateSpec,
    ScenarioSpec,
    load_scenario,
)
from emulator.spec.yamlsrc import YamlDoc, format_path, load_yaml

__all__ = [
    "BucketSpec", "ChoiceField", "ConstField", "DeadLettersSpec", "DeliveredSpec", "EventsSpec", "ExpectSpec",
    "FakerField", "FieldSpec", "FilteredSpec", "FunctionDef", "LatencySpec", "ListField", "LostSpec",
    "MappingSpec", "NotificationSpec", "ObjectField", "PipelineSpec", "QueueSpec", "RateSpec", "RedriveSpec",
    "ScalingConfig", "ScenarioSpec", "StateMachineSpec", "StreamSpec", "TemplateField", "TopicSpec",
    "YamlDoc", "format_path", "jsonable", "load_pipeline", "load_scenario", "load_yaml", "split_ref",
]
