"""The resolved configuration of one command: CLI options + YAML file + `key=value` overrides."""

from __future__ import annotations

import dataclasses
import math
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adapterx.cache import default_modules_dir
from adapterx.configs.data import DataSettings
from adapterx.configs.head import HeadSettings
from adapterx.configs.methods import FusionSettings, MergeSettings
from adapterx.configs.multitask import MixSettings, MlmSettings, MultitaskSettings
from adapterx.errors import AdapterxError
from adapterx.methods import DEFAULT_METHOD, method_names


# The optimizers `training.optim` may name (transformers' names): torch AdamW (foreach), its fused
# kernel, and bitsandbytes' 8-bit AdamW (a quarter of AdamW's state memory); `auto` is resolved
# when the device is known (adapterx.training.resolve_optim): the fused kernel on CUDA.
OPTIMS = ("auto", "adamw_torch", "adamw_torch_fused", "adamw_bnb_8bit")
# Upper bounds: larger values are no real setting, and they overflow later (1e308 epochs ->
# an infinite step count in the Trainer; a 2**63 batch size in torch).
MAX_EPOCHS = 10_000
MAX_LEARNING_RATE = 10.0
# Training settings added after grids and runs were first keyed on RunConfig.to_dict(): left out of
# it at these defaults, so their keys stay (the values every earlier run had)
LATER_TRAINING_DEFAULTS: dict[str, Any] = {"max_grad_norm": 1.0}
MAX_INT = 2**31 - 1
# The same names adapterx.backbone resolves (kept here so that building a config needs no torch;
# a test keeps them equal).
QUANTS = ("none", "8bit", "4bit")
REPORT_TO = ("none", "tensorboard", "wandb")  # the Trainer integrations `training.report_to` may name
DTYPES = ("auto", "fp32", "bf16")
EVAL_SPLITS = ("test", "dev")
DEVICE_RE = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?|xpu(:\d+)?)$")
# The learning-rate schedules `training.lr_scheduler` may name (transformers' SchedulerType names
# that need no further arguments; warmup comes from `training.warmup_ratio`).
LR_SCHEDULERS = ("linear", "cosine", "cosine_with_restarts", "polynomial", "constant",
                 "constant_with_warmup", "inverse_sqrt")
# Which weights a training keeps: those of the epoch with the best English dev score, or the last;
# `auto` picks the best epoch only on a dev set large enough to tell epochs apart
# (adapterx.training.SMALL_DEV examples), else keeps the last (adapterx.training.resolve_select).
SELECTS = ("auto", "best", "last")


def check_training_choices(settings: Any) -> None:
    """The named-choice settings of a training (TrainingConfig, and the TrainSettings resolved
    from it) must be among their choices; `report_to`'s package must be installed."""
    from adapterx.errors import UnknownChoiceError

    for name, choices in (("optim", OPTIMS), ("lr_scheduler", LR_SCHEDULERS), ("select", SELECTS),
                          ("report_to", REPORT_TO)):
        if getattr(settings, name) not in choices:
            raise UnknownChoiceError(f"training.{name}", getattr(settings, name), choices)
    check_report_to(settings.report_to)


def check_report_to(report_to: str) -> None:
    """An error naming the pip package when `report_to`'s integration is not installed."""
    import importlib.util

    needs = {"tensorboard": ("tensorboard", "tensorboardX"), "wandb": ("wandb",)}.get(report_to, ())
    if needs and not any(importlib.util.find_spec(m) for m in needs):
        raise AdapterxError(f"training.report_to={report_to} needs the {needs[0]} package, which is not installed",
                            f"pip install {needs[0]}, or set training.report_to=none")


@dataclass
class TrainingConfig:
    """Trainer hyperparameters; `None` means the task's default (adapterx.tasks.definitions)."""

    learning_rate: float | None = field(default=None, metadata={"help": "None: the method default (bottleneck 1e-4, lora 5e-4, full 1e-5)"})
    epochs: float | None = field(default=None, metadata={"help": "None: task default"})
    batch_size: int = field(default=16, metadata={"help": "per-device training batch size"})
    eval_batch_size: int = field(default=64, metadata={"help": "batch size for evaluation and prediction"})
    grad_accum: int = field(default=1, metadata={"help": "gradient accumulation steps (effective batch = batch_size x grad_accum)"})
    max_seq_length: int | None = field(default=None, metadata={"help": "None: task default"})
    doc_stride: int | None = field(default=None, metadata={"help": "QA window overlap; None: task default"})
    warmup_ratio: float = field(default=0.1, metadata={"help": "share of the steps with a linear learning-rate warmup, in [0, 1)"})
    weight_decay: float = field(default=0.01, metadata={"help": "AdamW weight decay"})
    max_grad_norm: float = field(default=1.0, metadata={
        "help": "clip the gradients' global norm to this before each step (the Trainer's default 1.0, "
                "as XTREME's scripts); 0: no clipping, as a plain PyTorch loop"})
    max_train_examples: int | None = field(default=None, metadata={"help": "cap on training examples (None: all)"})
    max_eval_examples: int | None = field(default=None, metadata={"help": "per language"})
    max_dev_examples: int | None = field(default=2000, metadata={"help": "cap on English dev examples scored for model selection (None: all)"})
    n_best: int = field(default=20, metadata={"help": "QA: start/end candidates considered per window"})
    max_answer_length: int = field(default=30, metadata={"help": "QA: longest answer span, in tokens"})
    logging_steps: int = field(default=50, metadata={"help": "log the training loss every N steps"})
    save_checkpoints: bool = field(default=True, metadata={"help": "checkpoint each epoch, so an interrupted training resumes"})
    gradient_checkpointing: bool = field(default=False, metadata={"help": "recompute activations in the backward pass (less memory, slower)"})
    optim: str = field(default="auto", metadata={
        "help": "auto (adamw_torch_fused on CUDA, else adamw_torch) | adamw_torch | adamw_torch_fused "
                "(same update, one kernel) | adamw_bnb_8bit (8-bit state)"})
    group_by_length: bool = field(default=True, metadata={
        "help": "batch examples of similar length (less padding, faster; changes batch order; "
                "single-source training only: multi-task / MLM batches are drawn per source)"})
    lr_scheduler: str = field(default="linear", metadata={
        "help": "learning-rate schedule after warmup: " + " | ".join(LR_SCHEDULERS)})
    select: str = field(default="auto", metadata={
        "help": "auto: best with >= 200 English dev examples, else last | best: keep the epoch with the best "
                "English dev score | last: keep the final weights (dev is still scored each epoch)"})
    report_to: str = field(default="none", metadata={
        "help": "none | tensorboard | wandb: the Trainer's logging integration, a loss curve per training "
                "under <output or modules-dir>/.logs/ (needs that package installed)"})

    def __post_init__(self) -> None:
        check_training_choices(self)  # at config build, not after the model has loaded
        for name in ("batch_size", "eval_batch_size", "grad_accum", "n_best", "max_answer_length", "logging_steps"):
            if getattr(self, name) < 1:
                raise AdapterxError(f"training.{name} must be >= 1, got {getattr(self, name)}")
        for name in ("learning_rate", "epochs"):
            value = getattr(self, name)
            # nan passes `<= 0` and inf makes the Trainer overflow: both must be refused here
            if value is not None and not (value > 0 and math.isfinite(value)):
                raise AdapterxError(f"training.{name} must be a finite number > 0, got {value}")
        for name, bound in (("epochs", MAX_EPOCHS), ("learning_rate", MAX_LEARNING_RATE)):
            value = getattr(self, name)
            if value is not None and value > bound:
                raise AdapterxError(f"training.{name} must be at most {bound:g}, got {value:g}")
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, int) and not isinstance(value, bool) and value > MAX_INT:
                raise AdapterxError(f"training.{f.name} must be at most {MAX_INT}, got {value}")
        if not 0 <= self.warmup_ratio < 1:
            raise AdapterxError(f"training.warmup_ratio must be in [0, 1), got {self.warmup_ratio}")
        if not (self.weight_decay >= 0 and math.isfinite(self.weight_decay)):
            raise AdapterxError(f"training.weight_decay must be a finite number >= 0, got {self.weight_decay}")
        if not (self.max_grad_norm >= 0 and math.isfinite(self.max_grad_norm)):
            raise AdapterxError(f"training.max_grad_norm must be a finite number >= 0 (0: no clipping), "
                                f"got {self.max_grad_norm}")
        for name in ("max_train_examples", "max_eval_examples", "max_dev_examples"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise AdapterxError(f"training.{name} must be >= 1 (or none: all), got {value}")
        if self.max_seq_length is not None and self.max_seq_length < 16:
            raise AdapterxError(f"training.max_seq_length must be >= 16, got {self.max_seq_length}")
        if self.doc_stride is not None and not (
                1 <= self.doc_stride < (self.max_seq_length or float("inf"))):
            raise AdapterxError(f"training.doc_stride must be >= 1 and below training.max_seq_length, "
                                f"got {self.doc_stride}")


@dataclass
class RetrievalSettings:
    """Retrieval targets (Tatoeba, BUCC): sentence vectors = pooled hidden states of one layer.

    Defaults follow google-research/xtreme's scripts/run_tatoeba.sh and run_bucc2018.sh."""

    layer: int | None = field(default=None, metadata={
        "help": "which layer (read per `layer_index`); None: XTREME's scripts' --specific_layer "
                "(adapterx.recipes.retrieval.xtreme_layer)"})
    sweep: bool = field(default=False, metadata={"help": "score every layer and report each"})
    max_seq_length: int = field(default=512, metadata={"help": "retrieval: longest sentence, in tokens"})
    batch_size: int = field(default=64, metadata={"help": "retrieval: sentences embedded per batch"})
    pool: str | None = field(default=None, metadata={
        "help": "mean (over all real tokens, CLS/SEP included) or cls (the first token); None: "
                "XTREME's scripts: mean for Tatoeba, cls for BUCC"})
    layer_index: str = field(default="xtreme", metadata={
        "help": "xtreme: `layer` indexes the transformer layers' outputs (0 = the first layer's, "
                "XTREME's --specific_layer); hidden_states: it indexes hidden_states (0 = embeddings), "
                "None meaning 7/12 of the depth (the earlier adapterx default)"})

    def __post_init__(self) -> None:
        if self.layer is not None and self.layer < 0:
            raise AdapterxError(f"retrieval.layer must be >= 0, got {self.layer}")
        if self.batch_size < 1 or self.max_seq_length < 8:
            raise AdapterxError(f"retrieval.batch_size must be >= 1 and retrieval.max_seq_length >= 8, "
                                f"got {self.batch_size} and {self.max_seq_length}")
        from adapterx.errors import UnknownChoiceError

        if self.pool not in (None, "mean", "cls"):
            raise UnknownChoiceError("retrieval.pool", str(self.pool), ("mean", "cls"))
        if self.layer_index not in ("xtreme", "hidden_states"):
            raise UnknownChoiceError("retrieval.layer_index", self.layer_index, ("xtreme", "hidden_states"))


@dataclass
class RunConfigBase:
    """Everything that decides what a command computes (and therefore its cache keys), except the
    per-method sections, which `RunConfig` adds from the method registry."""

    model: str = field(default="xlm-roberta-large", metadata={"help": "Hugging Face model name or local folder (--model)"})
    method: str = field(default=DEFAULT_METHOD, metadata={"help": f"{' | '.join(method_names())} (--method)"})
    quant: str = field(default="none", metadata={"help": "none | 8bit | 4bit: the frozen base quantized with bitsandbytes (--quant)"})
    dtype: str = field(default="auto", metadata={"help": "fp32 | bf16 | auto (--dtype)"})
    device: str = field(default="auto", metadata={"help": "auto | cpu | cuda | cuda:N | mps (--device)"})
    data_dir: str | None = field(default=None, metadata={"help": "read datasets from local files in their original formats (--data-dir); None: the Hub"})
    output: str = field(default="runs", metadata={"help": "runs folder (--output)"})
    # the shared user cache (adapterx.cache.default_modules_dir), not a folder of the working directory
    modules_dir: str = field(default_factory=default_modules_dir, metadata={
        "help": "module cache folder (--modules-dir); default $ADAPTERX_HOME/modules or ~/.cache/adapterx/modules"})
    seed: int = field(default=0, metadata={"help": "random seed (--seed)"})
    # The seed of the intermediate modules; None: `seed`. Pinning it (module_seed=0) trains each
    # intermediate module once and reuses it for every target seed, so a seed grid then measures
    # the spread of target training only (and retrieval scores, which train nothing, run once).
    module_seed: int | None = field(default=None, metadata={"help": "seed of the intermediate modules; None: `seed` (pin it to reuse modules across target seeds)"})
    eval_split: str = field(default="test", metadata={"help": "test | dev: the split zero-shot scores are computed on (--eval-split)"})
    langs: list[str] | None = field(default=None, metadata={"help": "evaluation languages (--langs); None: all of the target's"})
    trust_remote_code: bool = field(default=False, metadata={"help": "let transformers run the model repository's own code"})
    # `auto`: a target head starts from the first intermediate module's head of the same kind and
    # label set (SIQa -> COPA, MNLI -> XNLI, SQuAD -> TyDiQA), as continued training would;
    # `fresh`: a new random head.
    head_init: str = field(default="auto", metadata={"help": "auto: the target head starts from a matching intermediate head; fresh: a new random head"})
    # classification / multiple-choice heads: pooling (cls | mean) and dropout
    head: HeadSettings = field(default_factory=HeadSettings)
    # `training` trains what the command is about (the module of `train`, the target of `fuse`);
    # `inter` trains the intermediate modules `fuse` / `stack` need and do not find in the cache.
    training: TrainingConfig = field(default_factory=TrainingConfig)
    inter: TrainingConfig = field(default_factory=TrainingConfig)
    # one section per registered method (`lora.r=16`, ...): added by method_sections() below
    fusion: FusionSettings = field(default_factory=FusionSettings)
    merge: MergeSettings = field(default_factory=MergeSettings)
    retrieval: RetrievalSettings = field(default_factory=RetrievalSettings)
    # Intermediate training beyond one English task (adapterx.configs.multitask): the sampling of a
    # multi-task module, translated data mixed in, continued MLM. They shape intermediate modules only.
    multitask: MultitaskSettings = field(default_factory=MultitaskSettings)
    mix: MixSettings = field(default_factory=MixSettings)
    mlm: MlmSettings = field(default_factory=MlmSettings)
    # Malformed rows (`data.on_bad_row`) and the train/eval leakage guard (`data.leakage`).
    data: DataSettings = field(default_factory=DataSettings)

    def __post_init__(self) -> None:
        for name in ("seed", "module_seed"):
            value = getattr(self, name)
            if value is not None and not 0 <= value < 2**32:  # numpy's seed range; set_seed fails outside it
                raise AdapterxError(f"{name} must be in [0, 2**32), got {value}")
        from adapterx.errors import UnknownChoiceError

        if self.head_init not in ("auto", "fresh"):
            raise UnknownChoiceError("head_init", self.head_init, ("auto", "fresh"))
        # checked here, at config build, not after the data has loaded
        if self.eval_split not in EVAL_SPLITS:
            raise UnknownChoiceError("--eval-split", self.eval_split, EVAL_SPLITS)
        if self.quant not in QUANTS:
            raise UnknownChoiceError("--quant", self.quant, QUANTS)
        if self.dtype not in DTYPES:
            raise UnknownChoiceError("--dtype", self.dtype, DTYPES)
        if not DEVICE_RE.match(self.device):
            raise AdapterxError(f"invalid --device {self.device!r}", "use auto, cpu, cuda, cuda:N or mps")

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form, for run directories and hashing."""
        data = dataclasses.asdict(self)
        if self.head.is_default():  # a section added later: at its default, every hash of this stays as before
            data.pop("head")
        for section in ("training", "inter"):  # likewise training settings added later, at their defaults
            for name, default in LATER_TRAINING_DEFAULTS.items():
                if data[section].get(name) == default:
                    data[section].pop(name)
        # Sections of methods added after the first two belong to the hash of their own runs only,
        # so that registering a method leaves every other run's cache key as it was.
        from adapterx.methods import all_specs

        for spec in all_specs():
            if not spec.section_always_hashed and spec.name != self.method:
                data.pop(spec.name, None)
        return data

    def for_intermediate(self) -> "RunConfig":
        """This config with the `inter` settings as the training settings and `module_seed` (when
        set) as the seed: what intermediate modules are trained (and keyed) with."""
        seed = self.seed if self.module_seed is None else self.module_seed
        return dataclasses.replace(self, training=self.inter, seed=seed)


def method_sections() -> list[tuple[str, type, Any]]:
    """A RunConfig field for each registered method that has a settings dataclass."""
    from adapterx.methods import all_specs

    return [(spec.name, spec.settings_cls, field(default_factory=spec.settings_cls))
            for spec in all_specs() if spec.settings_cls is not None]


# The config class: the shared fields plus one section per method registered at import time (a
# method registered later, as tests do, runs with its settings' defaults: methods.method_settings).
if typing.TYPE_CHECKING:  # what type checkers see of the built-in sections
    from adapterx.methods.bottleneck.settings import BottleneckSettings
    from adapterx.methods.lora.settings import LoraSettings

    class RunConfig(RunConfigBase):
        bottleneck: BottleneckSettings
        lora: LoraSettings
else:
    RunConfig = dataclasses.make_dataclass("RunConfig", method_sections(), bases=(RunConfigBase,))
    RunConfig.__module__ = __name__
    RunConfig.__doc__ = RunConfigBase.__doc__.split(", except")[0] + "."


def _field_types(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _coerce(value: Any, annotation: Any, key: str) -> Any:
    """Turn a CLI/YAML value into the field's type, or say which type was expected."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        if value is None or (isinstance(value, str) and value.lower() in ("none", "null")):
            if type(None) in args:
                return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg, key)
            except AdapterxError as err:
                errors.append(err)
        raise errors[0]
    if origin is list:
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, (list, tuple)):
            raise AdapterxError(f"{key}: expected a list, got {value!r}")
        return [_coerce(v, args[0] if args else str, key) for v in items]
    try:
        if annotation is bool:
            if isinstance(value, bool):
                return value
            if str(value).lower() in ("1", "true", "yes", "on"):
                return True
            if str(value).lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError
        if annotation is int:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            return int(value)
        if annotation is float:
            if isinstance(value, bool):
                raise ValueError
            return float(value)
        if annotation is str:
            if isinstance(value, (dict, list)):
                raise ValueError
            return str(value)
    except (TypeError, ValueError):
        name = getattr(annotation, "__name__", str(annotation))
        raise AdapterxError(f"{key}: expected {name}, got {value!r}") from None
    return value


def _key_hint(key: str, valid: list[str], prefix: str) -> str:
    """Up to 3 keys close to a mistyped one (matched whole and by their last part), not all 100."""
    from adapterx.errors import close_matches

    leaves: dict[str, list[str]] = {}
    for full in valid:
        leaves.setdefault(full, []).append(full)
        leaves.setdefault(full.rpartition(".")[2], []).append(full)
    # initials too: `lr` -> learning_rate, `bs` -> batch_size
    initials = [leaf for leaf in leaves if "_" in leaf and "".join(w[:1] for w in leaf.split("_")) == key]
    found = [full for near in initials + close_matches(key, leaves, n=3) for full in leaves[near]]
    found.sort(key=lambda f: not f.startswith("training."))  # a bare key means `training`
    found = list(dict.fromkeys(f"{prefix}{f}" for f in found))[:3]
    guess = f"did you mean {' or '.join(filter(None, [', '.join(found[:-1]), found[-1]]))}? " if found else ""
    return f"{guess}`adapterx config --list` shows the valid keys with their defaults and help"


def apply_overrides(obj: Any, overrides: dict[str, Any], prefix: str = "") -> Any:
    """Set (dotted) keys on a nested dataclass, type-checked; unknown keys list the valid ones.

    A bare key that names exactly one nested field (`learning_rate=1e-4`) is accepted too; when
    both `training` and `inter` have it, it means `training`."""
    hints = _field_types(type(obj))
    nested = {n for n, t in hints.items() if dataclasses.is_dataclass(t)}
    for raw_key, value in overrides.items():
        key = raw_key.replace("-", "_")
        head, _, rest = key.partition(".")
        if head in nested:
            sub = getattr(obj, head)
            if rest:
                apply_overrides(sub, {rest: value}, f"{prefix}{head}.")
            elif isinstance(value, dict):
                apply_overrides(sub, value, f"{prefix}{head}.")
            else:
                raise AdapterxError(f"{prefix}{head} is a section; set its keys, e.g. {head}.<key>=...")
            continue
        if rest or head not in hints:
            owners = [n for n in nested if head in _field_types(type(getattr(obj, n)))] if not rest else []
            if "training" in owners:  # a bare training key means the command's own training
                owners = ["training"]
            if len(owners) == 1:
                apply_overrides(getattr(obj, owners[0]), {head: value}, f"{prefix}{owners[0]}.")
                continue
            valid = sorted(list(set(hints) - nested) + [f"{n}.{k}" for n in nested
                                                         for k in _field_types(type(getattr(obj, n)))])
            raise AdapterxError(f"unknown config key {prefix + raw_key!r}", _key_hint(key, valid, prefix))
        setattr(obj, head, _coerce(value, hints[head], f"{prefix}{head}"))
    post_init = getattr(obj, "__post_init__", None)
    if post_init is not None:
        try:
            post_init()
        except ValueError as err:
            raise AdapterxError(str(err)) from None
    return obj


def load_yaml_config(path: str | Path) -> dict[str, Any]:
    """Read a YAML config file as a (nested) mapping of overrides."""
    import yaml

    path = Path(path)
    if not path.is_file():
        raise AdapterxError(f"config file {path} does not exist")
    try:
        from adapterx.textio import read_utf8

        data = yaml.safe_load(read_utf8(path)) or {}
    except yaml.YAMLError as err:
        raise AdapterxError(f"{path} is not valid YAML: {err}") from None
    if not isinstance(data, dict):
        raise AdapterxError(f"{path}: expected a mapping of config keys at the top level")
    return data
