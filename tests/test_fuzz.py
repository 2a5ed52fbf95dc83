"""Property-based fuzz of the command line: random argument lists and `key=value` overrides must end
cleanly (exit 0, or exit 2 with a message), never with a traceback (exit 1 and an exception).

Nothing trains: every run command gets an empty data folder (it fails on the missing files) or the
tiny sample data with a `--model` folder that holds no model (it reads and checks the data, then
fails loading the model); the Hub is offline; paths stay inside a temporary working folder."""

from __future__ import annotations

import dataclasses
import typing

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapterx.cli import main
from adapterx.configs import RunConfig
from adapterx.presets.tiny import TINY_DATA

OFFLINE = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
RUN_COMMANDS = ["train", "fuse", "stack", "multitask", "merge", "direct", "finetune", "translate-test",
                "compare", "suggest", "eval"]
HELP_ONLY = ["push", "pull", "cache", "grid", "report", "tasks"]  # --help (push / pull reach the Hub)
INTERMEDIATE = ["squad", "mnli", "siqa", "copa"]
TARGETS = ["xnli", "xcopa", "tydiqa", "xquad", "tatoeba", "udpos"]
TASKS = INTERMEDIATE + TARGETS
COMMON = ["--model", "--method", "--quant", "--dtype", "--device", "--eval-split", "--output",
          "--modules-dir", "--seed", "--langs", "--max-train-examples", "--max-eval-examples",
          "--config", "--preset"]
REQUIRED = {"train": ["--task"], "fuse": ["--inter", "--target"], "stack": ["--inter", "--target"],
            "multitask": ["--inter", "--target"], "merge": ["--inter", "--target"], "direct": ["--target"],
            "finetune": ["--target"], "translate-test": ["--target"], "compare": ["--target"],
            "suggest": ["--target"], "eval": ["--run"]}
EXTRA = ["--how", "--weights", "--setups", "--module", "--runs", "--examples", "--inter", "--lr", "-x"]


def _config_keys(obj: object = RunConfig(), prefix: str = "") -> list[str]:
    """Every dotted config key (`training.learning_rate`, `data.leakage`, ...)."""
    keys = []
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value):
            keys += _config_keys(value, f"{prefix}{f.name}.")
        else:
            keys.append(prefix + f.name)
    return keys


KEYS = _config_keys()
BARE = sorted({k.rsplit(".", 1)[-1] for k in KEYS})


def _no_abs(text: str) -> str:
    """Keep generated paths inside the temporary working folder (no root, home or parent)."""
    text = text.replace("..", "__")
    return "x" + text if text.startswith(("/", "~", "\\")) else text


garbage = st.text(min_size=0, max_size=12).map(_no_abs)
numbers = st.one_of(st.integers(-10**12, 10**12).map(str), st.floats(allow_nan=True).map(str),
                    st.sampled_from(["0", "-1", "1e309", "-0.0", "nan", "inf", "1_000", "0x10", "1e-400"]))
words = st.sampled_from(["none", "null", "true", "false", "yes", "", "auto", "cpu", "cuda:7", "lora",
                         "bottleneck", "full", "8bit", "4bit", "bf16", "test", "dev", "tiny", "de,sw",
                         "squad,mnli", "refuse", "warn", "off", "skip", "error", ",", "a=b", "[1, 2]",
                         "{}", "é\u0301", "\u202e", "日本", "\x00", "\ud7ff"])
values = st.one_of(words, numbers, garbage)
keys = st.one_of(st.sampled_from(KEYS), st.sampled_from(BARE), garbage,
                 st.sampled_from(["training", "data", "lora.", ".r", "training..epochs", "a.b.c", "-", "=",
                                  "training.learning-rate", "TRAINING.EPOCHS"]))
overrides = st.builds(lambda k, v: f"{k}={v}", keys, values)
task_lists = st.one_of(st.sampled_from(TASKS),
                       st.lists(st.sampled_from(TASKS), min_size=1, max_size=3).map(",".join), garbage)
good_inter = st.lists(st.sampled_from(INTERMEDIATE), min_size=1, max_size=2, unique=True).map(",".join)
typed_overrides = st.builds(lambda k, v: f"{k}={v}", st.sampled_from(KEYS),
                            st.one_of(numbers, numbers, words, garbage))


def _required(option: str, command: str) -> st.SearchStrategy[str]:
    """Mostly valid values for a command's required options, sometimes anything."""
    good = {"--task": st.sampled_from(INTERMEDIATE), "--inter": good_inter,
            "--target": st.sampled_from(TARGETS), "--run": garbage}[option]
    return st.one_of(good, good, good, task_lists)


@st.composite
def command_lines(draw: st.DrawFn) -> list[str]:
    """A run command with its required options (mostly valid), then common options and
    `key=value` overrides (mostly real keys with wrong or out-of-range values) and, now and then,
    options the command lacks or stray words."""
    if draw(st.integers(0, 9)) == 0:  # now and then: a help screen or a top-level flag
        return draw(st.sampled_from([[c, "--help"] for c in RUN_COMMANDS + HELP_ONLY]
                                    + [["--help"], ["--version"], ["nosuchcommand"], []]))
    command = draw(st.sampled_from(RUN_COMMANDS))
    argv = [command]
    for option in REQUIRED[command]:
        argv += [option, draw(_required(option, command))]
    chunks = draw(st.lists(st.one_of(
        typed_overrides.map(lambda o: [o]), typed_overrides.map(lambda o: [o]),
        typed_overrides.map(lambda o: [o]), overrides.map(lambda o: [o]),
        st.tuples(st.sampled_from(COMMON), st.one_of(numbers, words, garbage)).map(list),
        st.tuples(st.sampled_from(EXTRA), st.one_of(values, task_lists)).map(list),
        st.sampled_from([["-"], ["--"], ["--x"], ["stray"], ["=v"], ["k="]])), max_size=4))
    for chunk in chunks:
        argv += chunk
    return argv


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture(autouse=True)
def offline(monkeypatch) -> None:
    """Offline for real: the libraries read HF_HUB_OFFLINE when imported (before this test sets
    it), and a Hub call would otherwise retry for a minute on a machine without network."""
    import huggingface_hub.constants
    import transformers.utils.hub

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(transformers.utils.hub, "_is_offline_mode", True)
    try:
        import datasets.config

        monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True, raising=False)
    except ImportError:
        pass


@pytest.mark.parametrize("data", ["empty", "tiny"])
@settings(max_examples=60, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(argv=command_lines())
def test_cli_never_crashes(data: str, argv: list[str], runner: CliRunner, tmp_path, monkeypatch) -> None:
    """`empty`: commands fail on missing files; `tiny`: they read and check the sample data (and
    the leakage guard runs), then fail on a `--model` folder that holds no model."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir(exist_ok=True)
    if argv and argv[0] in RUN_COMMANDS and "--help" not in argv:
        # appended last, so they win over the options drawn: nothing can train
        argv = [*argv, "--data-dir", "empty" if data == "empty" else str(TINY_DATA), "--model", "empty"]
    result = runner.invoke(main, argv, env=OFFLINE)
    crash = result.exception if not isinstance(result.exception, SystemExit) else None
    assert crash is None, f"{argv!r} crashed:\n{result.output}\n{crash!r}"
    assert result.exit_code in (0, 2), f"{argv!r} exited {result.exit_code}:\n{result.output}"
    assert "Traceback" not in result.output
    if result.exit_code == 2:
        assert result.output.strip(), f"{argv!r} exited 2 without a message"


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(key=keys, value=values)
def test_overrides_fail_cleanly_or_apply(key: str, value: str) -> None:
    """apply_overrides on any key and value: a config, or an AdapterxError naming the problem."""
    from adapterx.configs import apply_overrides
    from adapterx.errors import AdapterxError

    try:
        cfg = apply_overrides(RunConfig(), {key: value})
    except AdapterxError as err:
        assert str(err)
        return
    assert isinstance(cfg, RunConfig)
    typing.get_type_hints(RunConfig)  # still a well-formed config
