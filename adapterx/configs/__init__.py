"""Dataclass configs with their defaults: methods, training, and the whole run."""

from adapterx.configs.head import HeadSettings
from adapterx.configs.methods import BottleneckSettings, FusionSettings, LoraSettings, MergeSettings
from adapterx.configs.run import (RetrievalSettings, RunConfig, TrainingConfig, apply_overrides,
                                  load_yaml_config)

__all__ = ["BottleneckSettings", "FusionSettings", "HeadSettings", "LoraSettings", "MergeSettings", "RetrievalSettings", "RunConfig", "TrainingConfig",
           "apply_overrides", "load_yaml_config"]
