"""Sharing modules on the Hub: push (staged files, model card, no token on disk), pull into the
cache, composites with their parts, and clear errors; the Hub is faked, no network."""

from __future__ import annotations

import fnmatch
import json
import shutil
from pathlib import Path

import huggingface_hub
import pytest
import requests
import yaml
from click.testing import CliRunner
from huggingface_hub import HfApi
from huggingface_hub.errors import LocalEntryNotFoundError, RepositoryNotFoundError

from adapterx import api
from adapterx.cli import main
from adapterx.errors import AdapterxError, HubUnreachableError, ModuleMismatchError
from adapterx.model_card import model_card
from adapterx.store import DONE_MARKER, atomic_dir, read_meta, write_json_atomic

TOKEN = "hf_SECRETtokenNEVERonDISK123"
FINGERPRINT = {"model_type": "xlm-roberta", "hidden_size": 64, "num_hidden_layers": 2,
               "num_attention_heads": 4, "vocab_size": 2000, "embedding_hash": "abc123"}


class FakeHub:
    """Stands in for the Hub: HfApi methods and snapshot_download copy files to / from
    `remote/<repo>/<revision>/` and record each call with its arguments."""

    def __init__(self, remote: Path, error: BaseException | None = None) -> None:
        self.remote, self.error, self.calls = remote, error, []

    def _record(self, name: str, **kwargs) -> None:
        self.calls.append((name, kwargs))
        if self.error is not None:
            raise self.error

    def create_repo(self, repo_id, **kwargs):
        self._record("create_repo", repo_id=repo_id, **kwargs)
        (self.remote / repo_id / "main").mkdir(parents=True, exist_ok=True)
        return f"https://huggingface.co/{repo_id}"

    def create_branch(self, repo_id, *, branch, **kwargs):
        self._record("create_branch", repo_id=repo_id, branch=branch, **kwargs)
        (self.remote / repo_id / branch).mkdir(parents=True, exist_ok=True)

    def upload_folder(self, *, repo_id, folder_path, revision=None, delete_patterns=None, **kwargs):
        self._record("upload_folder", repo_id=repo_id, revision=revision, delete_patterns=delete_patterns,
                     files=sorted(str(p.relative_to(folder_path)) for p in Path(folder_path).rglob("*")
                                  if p.is_file()), **kwargs)
        dest = self.remote / repo_id / (revision or "main")
        if delete_patterns:
            shutil.rmtree(dest, ignore_errors=True)
        shutil.copytree(folder_path, dest, dirs_exist_ok=True)

    def snapshot_download(self, repo_id, *, revision=None, local_dir=None, allow_patterns=None, **kwargs):
        self._record("snapshot_download", repo_id=repo_id, revision=revision, allow_patterns=allow_patterns, **kwargs)
        src = self.remote / repo_id / (revision or "main")
        if not src.is_dir():
            raise RepositoryNotFoundError(f"404 Client Error. Repository Not Found for url: {repo_id}")
        for path in src.rglob("*"):
            rel = path.relative_to(src).as_posix()
            if path.is_file() and (not allow_patterns or any(fnmatch.fnmatch(rel, p) for p in allow_patterns)):
                (Path(local_dir) / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, Path(local_dir) / rel)
        (Path(local_dir) / ".cache" / "huggingface").mkdir(parents=True, exist_ok=True)  # as the real one does
        return str(local_dir)

    def list_repo_files(self, repo_id, *, revision=None, **kwargs):
        self._record("list_repo_files", repo_id=repo_id, revision=revision, **kwargs)
        src = self.remote / repo_id / (revision or "main")
        if not src.is_dir():
            raise RepositoryNotFoundError(f"404 Client Error. Repository Not Found for url: {repo_id}")
        return sorted(p.relative_to(src).as_posix() for p in src.rglob("*") if p.is_file())

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]

    def last(self, name: str) -> dict:
        return [kw for n, kw in self.calls if n == name][-1]


def install(monkeypatch, fake: FakeHub) -> FakeHub:
    for name in ("create_repo", "create_branch", "upload_folder", "list_repo_files"):
        monkeypatch.setattr(HfApi, name, lambda self, *a, _n=name, **kw: getattr(fake, _n)(*a, **kw))
    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake.snapshot_download)
    return fake


@pytest.fixture
def hub(monkeypatch, tmp_path) -> FakeHub:
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    return install(monkeypatch, FakeHub(tmp_path / "remote"))


def fake_module(root: Path, task: str = "mnli", method: str = "lora", key: str = "0123456789abcdef",
                base: str = "xlm-roberta-large", **extra) -> Path:
    """A complete module folder as train writes it (small fake weights)."""
    path = root / task / f"{method}-{key}"
    with atomic_dir(path) as tmp:
        weights = "adapter_model.safetensors" if method == "lora" else "adapter.safetensors"
        (tmp / weights).write_bytes(b"weights")
        (tmp / "adapter_config.json").write_text("{}")
        (tmp / "adapterx_head.safetensors").write_bytes(b"head")
        write_json_atomic(tmp / "adapterx.json", {
            "schema_version": 1, "kind": "module", "task": task, "method": method, "key": key,
            "head": {"kind": "classification", "labels": ["entailment", "neutral", "contradiction"]},
            "base_model": {"name": base, "fingerprint": FINGERPRINT, "quant": "none", "dtype": "float32"},
            "method_settings": {"r": 8, "alpha": 16}, "training": {"learning_rate": 2e-4, "epochs": 2.0},
            "metrics": {"english_dev": {"accuracy": 81.25}}, "created": "2026-01-02T03:04:05", **extra})
    return path


def fake_run(runs: Path, part: Path, method: str = "bottleneck") -> Path:
    """A finished fuse run folder: module/ (fusion + head) composed of `part`, results.json beside."""
    run = runs / "xnli" / "fuse-mnli-run"
    with atomic_dir(run) as tmp:
        mod = tmp / "module"
        mod.mkdir()
        (mod / "model_adapter_fusion.safetensors").write_bytes(b"fusion")
        (mod / "adapter_fusion_config.json").write_text("{}")
        write_json_atomic(mod / "adapterx.json", {
            "schema_version": 1, "kind": "target", "task": "xnli", "method": method, "key": "fedcba9876543210",
            "composition": {"setup": "fuse", "inter": ["mnli"]}, "head": {"kind": "classification"},
            "base_model": {"name": "xlm-roberta-large", "fingerprint": FINGERPRINT, "quant": "none"},
            "modules": [{"task": "mnli", "path": str(part), "key": read_meta(part)["key"]}],
            "config": {"seed": 0, "bottleneck": {"reduction_factor": 16}, "data_dir": "/home/me/data"}})
        (mod / DONE_MARKER).write_text("ok")
        write_json_atomic(tmp / "results.json", {
            "target": "xnli", "metric": "accuracy", "setup": "fuse", "seed": 0, "eval_split": "test",
            "per_language": {"de": 71.5, "sw": 60.25}, "average": 65.875, "english_dev": 80.0,
            "n_examples": {"de": 5010, "sw": 5010}})
    return run


def front(card: str) -> dict:
    assert card.startswith("---\n")
    return yaml.safe_load(card.split("---\n")[1])


def all_bytes(root: Path) -> list[tuple[Path, bytes]]:
    return [(p, p.read_bytes()) for p in root.rglob("*") if p.is_file()]


def test_push_uploads_module_and_card_and_pull_lands_in_cache(hub, tmp_path):
    module = fake_module(tmp_path / "modules")
    url = api.push(module, "alice/mnli-lora")
    assert url.endswith("/alice/mnli-lora")
    assert hub.names() == ["create_repo", "upload_folder"]
    upload = hub.last("upload_folder")
    assert upload["files"] == ["README.md", "adapter_config.json", "adapter_model.safetensors", "adapterx.json",
                               "adapterx_head.safetensors"]  # no .complete: the cache's own marker
    assert "token" not in upload and "token" not in hub.last("create_repo")
    card = (tmp_path / "remote" / "alice/mnli-lora" / "main" / "README.md").read_text()
    meta = front(card)
    assert meta["library_name"] == "peft" and meta["base_model"] == "xlm-roberta-large"
    assert {"adapterx", "mnli", "lora"} <= set(meta["tags"]) and meta["language"] == ["en"]
    assert meta["datasets"] == ["nyu-mll/glue"] and "license" not in meta
    for needle in ("81.25", "abc123", "PeftModel.from_pretrained", "adapterx pull alice/mnli-lora",
                   "adapterx eval --module \"$path\" --target xnli", "mnli/lora-0123456789abcdef/", "learning_rate"):
        assert needle in card, needle

    cache = tmp_path / "cache"
    pulled = api.pull("alice/mnli-lora", modules_dir=cache)
    assert pulled == cache / "mnli" / "lora-0123456789abcdef"
    assert read_meta(pulled) == read_meta(module)
    assert (pulled / "adapter_model.safetensors").read_bytes() == b"weights"
    assert [p.name for p in cache.iterdir() if p.name.startswith(".pull")] == []  # staging gone
    assert not (pulled / ".cache").exists()
    before = len(hub.calls)
    assert api.pull("alice/mnli-lora", modules_dir=cache) == pulled  # already cached: only adapterx.json read
    assert [kw["allow_patterns"] for n, kw in hub.calls[before:]] == [["adapterx.json"]]
    for path, data in all_bytes(tmp_path):
        assert TOKEN.encode() not in data, path


def test_push_bottleneck_to_branch_with_license_and_local_base(hub, tmp_path):
    module = fake_module(tmp_path / "modules", method="bottleneck", base=str(tmp_path))
    api.push(module, "alice/mnli-bn", private=True, revision="v1", license="mit")
    assert hub.last("create_repo")["private"] is True and hub.last("create_branch")["branch"] == "v1"
    assert hub.last("upload_folder")["revision"] == "v1"
    card = (tmp_path / "remote" / "alice/mnli-bn" / "v1" / "README.md").read_text()
    meta = front(card)
    assert meta["library_name"] == "adapter-transformers" and meta["license"] == "mit"
    assert "base_model" not in meta  # a local folder is no Hub id
    assert "model.load_adapter(path, with_head=False" in card and 'revision="v1"' in card
    pulled = api.pull("alice/mnli-bn", revision="v1", modules_dir=tmp_path / "cache")
    assert pulled == tmp_path / "cache" / "mnli" / "bottleneck-0123456789abcdef"


def test_composite_travels_with_its_parts_and_results(hub, tmp_path):
    part = fake_module(tmp_path / "modules", method="bottleneck", key="1111222233334444")
    run = fake_run(tmp_path / "runs", part)
    api.push(run / "module", "alice/xnli-fuse")
    files = hub.last("upload_folder")["files"]
    assert "parts/mnli/adapter.safetensors" in files and "parts/mnli/adapterx.json" in files
    assert "model_adapter_fusion.safetensors" in files and "results.json" in files
    remote = tmp_path / "remote" / "alice/xnli-fuse" / "main"
    assert json.loads((remote / "adapterx.json").read_text())["modules"][0]["path"] == "parts/mnli"
    card = (remote / "README.md").read_text()
    meta = front(card)
    assert {"xnli", "mnli", "fuse"} <= set(meta["tags"]) and {"de", "sw", "en"} <= set(meta["language"])
    assert "facebook/xnli" in meta["datasets"]
    assert "| de | 71.50 | 5010 |" in card and "65.88" in card and "load_adapter_fusion" in card
    assert "reduction_factor" in card

    cache = tmp_path / "cache"
    pulled = api.pull("alice/xnli-fuse", modules_dir=cache)
    assert pulled == cache / "xnli" / "bottleneck-fedcba9876543210"
    pulled_part = cache / "mnli" / "bottleneck-1111222233334444"
    meta = read_meta(pulled)
    assert meta["modules"][0]["path"] == str(pulled_part.resolve()) and read_meta(pulled_part)["task"] == "mnli"
    assert not (pulled / "parts").exists() and (pulled / "results.json").is_file()


def test_refuses_what_is_not_a_complete_module(hub, tmp_path):
    module = fake_module(tmp_path / "modules")
    with pytest.raises(AdapterxError, match="no adapterx.json"):
        api.push(module.parent, "alice/x")
    (module / DONE_MARKER).unlink()
    with pytest.raises(ModuleMismatchError, match="incomplete"):
        api.push(module, "alice/x")
    run = fake_run(tmp_path / "runs", fake_module(tmp_path / "m2", key="2222222222222222"))
    with pytest.raises(AdapterxError, match="run folder"):
        api.push(run, "alice/x")
    shutil.rmtree(tmp_path / "m2")  # the composite's part is gone
    with pytest.raises(AdapterxError, match="not a complete module on this machine"):
        api.push(run / "module", "alice/x")
    with pytest.raises(AdapterxError, match="repository id"):
        api.push(run / "module", "not a repo")
    assert hub.calls == []  # nothing reached the Hub


def test_missing_token_and_unreachable_hub_say_what_to_do(monkeypatch, tmp_path):
    module = fake_module(tmp_path / "modules")
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setattr(huggingface_hub, "get_token", lambda: None)
    with pytest.raises(AdapterxError, match="no Hugging Face token") as err:
        api.push(module, "alice/x")
    assert "huggingface-cli login" in str(err.value) and "HF_TOKEN" in str(err.value)

    monkeypatch.setattr(huggingface_hub, "get_token", lambda: TOKEN)
    down = requests.exceptions.ConnectionError("Max retries exceeded: Failed to resolve 'huggingface.co'")
    install(monkeypatch, FakeHub(tmp_path / "remote", error=down))
    with pytest.raises(HubUnreachableError, match="unreachable"):
        api.push(module, "alice/x")
    install(monkeypatch, FakeHub(tmp_path / "remote", error=LocalEntryNotFoundError("cannot find snapshot")))
    with pytest.raises(HubUnreachableError, match="could not be pulled"):
        api.pull("alice/x", modules_dir=tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []  # no staging left behind

    result = CliRunner().invoke(main, ["push", str(module), "--repo", "alice/x"])
    assert result.exit_code == 2 and "unreachable" in result.output and "Traceback" not in result.output


def test_pull_errors_for_missing_or_foreign_repositories(hub, tmp_path):
    with pytest.raises(AdapterxError, match="not found on the Hub"):
        api.pull("alice/missing", modules_dir=tmp_path / "cache")
    (tmp_path / "remote" / "bob/bert" / "main").mkdir(parents=True)
    (tmp_path / "remote" / "bob/bert" / "main" / "config.json").write_text("{}")
    with pytest.raises(AdapterxError, match="not an adapterx module"):
        api.pull("bob/bert", modules_dir=tmp_path / "cache")
    evil = tmp_path / "remote" / "eve/m" / "main"
    evil.mkdir(parents=True)
    (evil / "adapterx.json").write_text(json.dumps({"kind": "module", "task": "../../etc", "method": "lora",
                                                    "key": "k", "base_model": {}}))
    with pytest.raises(AdapterxError, match="unsafe"):
        api.pull("eve/m", modules_dir=tmp_path / "cache")


def test_card_for_a_multitask_lora_composite(tmp_path):
    meta = {"kind": "target", "task": "xnli", "method": "lora", "key": "k",
            "composition": {"setup": "stack", "inter": ["mnli", "squad"]},
            "base_model": {"name": "xlm-roberta-base", "fingerprint": FINGERPRINT},
            "modules": [{"task": "mnli", "key": "a"}, {"task": "squad", "key": "b"}], "config": {"lora": {"r": 8}}}
    card = model_card(meta, "alice/x")
    assert front(card)["library_name"] == "peft" and "r: 8" in card
    assert 'model.load_adapter(f"{path}/parts/squad", adapter_name="squad")' in card
    assert "set_adapter(['mnli', 'squad', 'target'])" in card


def test_real_module_round_trip_evaluates_and_refuses_another_base(hub, make_cfg, other_tiny_model, tmp_path):
    cfg = make_cfg(method="lora", langs="de", **{"training.max_eval_examples": 4})
    module = api.train("mnli", cfg=cfg)
    api.push(module, "alice/tiny-mnli")
    shutil.rmtree(module)
    pulled = api.pull("alice/tiny-mnli", modules_dir=cfg.modules_dir)
    assert pulled == module
    results = api.evaluate(module=str(pulled), target="xnli", cfg=cfg)
    assert set(results["per_language"]) == {"de"}
    with pytest.raises(ModuleMismatchError, match="trained on base model"):
        api.evaluate(module=str(pulled), target="xnli", cfg=cfg, model=str(other_tiny_model))
    for path, data in all_bytes(tmp_path):
        assert TOKEN.encode() not in data, path
