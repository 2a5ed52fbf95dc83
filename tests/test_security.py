"""Security: the HF token never reaches runs/, modules/ or logs; remote code runs only when asked
for; weights are read from safetensors only, never unpickled."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

import adapterx
from adapterx.api import build_config
from adapterx.backbone import load_backbone
from adapterx.cli import main
from adapterx.errors import AdapterxError
from adapterx.presets.tiny import TINY_DATA

TOKEN = "hf_adapterxTestSecretToken0123456789"
PACKAGE = Path(adapterx.__file__).parent


def test_hf_token_never_written_or_logged(tiny_model, tmp_path, monkeypatch, caplog):
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"):
        monkeypatch.setenv(name, TOKEN)
    caplog.set_level(logging.DEBUG)
    argv = ["stack", "--inter", "copa", "--target", "xcopa", "--langs", "it", "--model", str(tiny_model),
            "--data-dir", str(TINY_DATA), "--device", "cpu", "--output", str(tmp_path / "runs"),
            "--modules-dir", str(tmp_path / "modules"), "training.epochs=1", "inter.epochs=1",
            "training.max_seq_length=64", "inter.max_seq_length=64", "bottleneck.reduction_factor=4"]
    result = CliRunner().invoke(main, argv)
    assert result.exit_code == 0, result.output
    assert TOKEN not in result.output and TOKEN not in caplog.text
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name == "results.json" for p in files) and any(p.suffix == ".safetensors" for p in files)
    leaked = [p for p in files if TOKEN.encode() in p.read_bytes()]
    assert leaked == []
    # every weight file written is safetensors: nothing a later load would have to unpickle
    assert not [p for p in files if p.suffix in (".bin", ".pt", ".pth", ".pkl", ".pickle")]


def test_trust_remote_code_is_off_unless_asked_for(tiny_model, monkeypatch):
    assert build_config().trust_remote_code is False
    assert build_config(overrides={"trust_remote_code": "true"}).trust_remote_code is True
    import transformers

    seen: list[dict] = []
    for cls in (transformers.AutoConfig, transformers.AutoTokenizer, transformers.AutoModel):
        original = cls.from_pretrained.__func__

        def spy(klass, *args, _original=original, **kwargs):
            seen.append(kwargs)
            return _original(klass, *args, **kwargs)
        monkeypatch.setattr(cls, "from_pretrained", classmethod(spy))
    load_backbone(str(tiny_model), device="cpu")
    assert len(seen) == 3 and not any("trust_remote_code" in kw for kw in seen)
    assert seen[-1].get("use_safetensors") is True
    seen.clear()
    load_backbone(str(tiny_model), device="cpu", trust_remote_code=True)
    assert all(kw.get("trust_remote_code") is True for kw in seen)


def test_every_recipe_passes_the_configs_trust_remote_code():
    """load_backbone is called with cfg.trust_remote_code everywhere, never with True hard-coded."""
    calls = [(p, line) for p in PACKAGE.rglob("*.py") for line in p.read_text().splitlines()
             if "load_backbone(" in line and "def load_backbone" not in line and "import" not in line]
    assert calls
    for path, line in calls:
        assert "trust_remote_code" in line, f"{path}: {line.strip()}"
    assert "trust_remote_code=True" not in "".join(p.read_text() for p in PACKAGE.rglob("*.py"))


def test_no_pickle_loading_in_the_package():
    """No torch.load / pickle / np.load with pickles; every numpy load says allow_pickle=False."""
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\btorch\.(load|save)\(", text), path
        assert not re.search(r"^\s*(import|from) (c?pickle|dill|joblib)\b", text, re.M), path
        for call in re.findall(r"np\.load\([^)]*\)", text):
            assert "allow_pickle=False" in call, (path, call)


def test_pickle_only_checkpoint_is_refused(tiny_model, tmp_path):
    """A model folder with only pytorch_model.bin (a pickle) is refused with a clear message."""
    import shutil

    from transformers import AutoModel

    folder = tmp_path / "pickled"
    shutil.copytree(tiny_model, folder)
    model = AutoModel.from_pretrained(folder)
    for f in folder.glob("*.safetensors"):
        f.unlink()
    model.save_pretrained(folder, safe_serialization=False)
    assert (folder / "pytorch_model.bin").is_file() and not list(folder.glob("*.safetensors"))
    with pytest.raises(AdapterxError, match="no safetensors weights"):
        load_backbone(str(folder), device="cpu")
