"""LoRA modules through peft; saved as plain peft folders (adapter_config.json + safetensors)."""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from pathlib import Path

import torch

from adapterx.backbone import Backbone
from adapterx.composition import Composition
from adapterx.configs.methods import FusionSettings, MergeSettings
from adapterx.methods.base import TARGET_MODULE, MethodBase, Plan
from adapterx.methods.lora.fusion import LoraFusion
from adapterx.methods.lora.interop import bare_encoder_view, export_for_auto_class
from adapterx.methods.lora.eval_merge import merged_for_eval
from adapterx.methods.lora.merge import MERGED, merge_modules
from adapterx.methods.lora.settings import LoraSettings
from adapterx.module_meta import require_safetensors


class LoraMethod(MethodBase):
    """Low-rank updates of the frozen base's Linear layers (works on 8-bit / 4-bit bases too)."""

    name = "lora"

    def prepare(self, bb: Backbone) -> None:
        """Nothing to do: peft wraps the model on the first add/load."""

    def eval_context(self, bb: Backbone):
        """A final fp32 model runs merged (one matmul per layer), then unmerged (lora/eval_merge.py)."""
        return merged_for_eval(bb)

    def export_auto_class(self, bb: Backbone, task_kind: str, n_labels: int, head, path: Path):
        """Plain peft loads the module on the task's AutoModelFor* class where one fits."""
        return export_for_auto_class(bb.model, task_kind, n_labels, head, path)

    def plan(self, comp: Composition, modules: tuple[str, ...], module: str = TARGET_MODULE) -> Plan:
        """merge: the merged module (saved with the run) stands for the intermediate ones at inference."""
        plan = super().plan(comp, modules, module)
        if comp.setup == "merge":
            plan = dataclasses.replace(plan, infer_active=Composition("stack", (MERGED, module)))
        return plan

    def check_request(self, comp: Composition, cfg) -> None:
        """merge: a wrong --weights count is refused before any module trains."""
        if comp.setup == "merge":
            cfg.merge.weights_for(len(comp.inter))

    def composition_settings(self, comp: Composition, cfg) -> object:
        """merge: the `merge` section; fuse: the `fusion` section."""
        return cfg.merge if comp.setup == "merge" else super().composition_settings(comp, cfg)

    def key_settings(self, comp: Composition, cfg) -> dict:
        """merge: how the modules are merged decides the result."""
        return {"merge": dataclasses.asdict(cfg.merge)} if comp.setup == "merge" else {}

    def add(self, bb: Backbone, name: str, settings: LoraSettings) -> None:
        """Attach a fresh LoRA module."""
        from peft import LoraConfig, PeftModel, get_peft_model

        cfg = LoraConfig(r=settings.r, lora_alpha=settings.alpha, lora_dropout=settings.dropout,
                         target_modules=list(settings.target_modules), bias="none")
        _check_targets(bb, list(settings.target_modules))
        if isinstance(bb.model, PeftModel):
            bb.model.add_adapter(name, cfg)
        else:
            bb.model = get_peft_model(bb.model, cfg, adapter_name=name)

    def load(self, bb: Backbone, path: Path, name: str, trainable: bool = False) -> None:
        """Attach a saved LoRA module, frozen unless `trainable` (sequential continues it)."""
        from peft import PeftModel
        from peft.utils import SAFETENSORS_WEIGHTS_NAME

        # peft falls back to unpickling adapter_model.bin when the safetensors file is missing
        require_safetensors(path, SAFETENSORS_WEIGHTS_NAME)

        # a module saved for its AutoModelFor* class (lora_interop) loads onto the bare encoder too
        config, mapping = bare_encoder_view(path, bb.model)
        if isinstance(bb.model, PeftModel):
            bb.model.load_adapter(str(path), adapter_name=name, is_trainable=trainable, key_mapping=mapping)
        else:
            bb.model = PeftModel.from_pretrained(bb.model, str(path), adapter_name=name, is_trainable=trainable,
                                                 config=config, key_mapping=mapping)

    def save(self, bb: Backbone, name: str, path: Path) -> None:
        """Write adapter_config.json + adapter_model.safetensors directly into `path`."""
        with tempfile.TemporaryDirectory(dir=path) as tmp:
            bb.model.save_pretrained(tmp, selected_adapters=[name], safe_serialization=True)
            # peft puts every adapter but "default" in a sub-folder named after it
            src = Path(tmp) / name if (Path(tmp) / name).is_dir() else Path(tmp)
            for f in ("adapter_config.json", "adapter_model.safetensors"):
                shutil.move(str(src / f), str(path / f))

    def compose(self, bb: Backbone, comp: Composition, train: str | None, settings: object = None) -> None:
        """Activate `comp`; only `train` learns (the target module, or "fusion" for LoRA fusion).

        stack / direct: LoRA updates add up, so every module is active together. merge: the
        modules' weighted merge (built once, see lora_merge) replaces them. fuse: LoRA fusion."""
        model = bb.model
        if comp.setup == "fuse":
            self._fuse(bb, comp, train, settings)
            return
        if comp.setup == "merge":
            if MERGED not in model.peft_config:  # a loaded run brings its merged module along
                report = merge_modules(model, comp.inter, settings or MergeSettings())
                self.merge_report = report
            active = [MERGED] + ([train] if train else [])
        else:
            active = list(comp.inter) + ([train] if train else [])
        model.base_model.set_adapter(active)
        for pname, param in model.named_parameters():
            param.requires_grad = bool(train) and "lora_" in pname and f".{train}." in pname

    def _fuse(self, bb: Backbone, comp: Composition, train: str | None, settings: object) -> None:
        """LoRA fusion over the frozen modules; `train` set: a new fusion that trains."""
        model = bb.model
        model.base_model.set_adapter(list(comp.inter))
        fusion = getattr(model, "lora_fusion", None)
        if fusion is None or train is not None:
            fs = settings if isinstance(settings, FusionSettings) else FusionSettings()
            fusion = LoraFusion.for_model(model, comp.inter, fs.attn_dim, fs.temperature)
            model.lora_fusion = fusion  # a submodule: its parameters train and travel with the model
        # fp32 gates whatever the base's dtype: bf16 weights would round most optimizer steps
        # away; the fusion hook casts the layer outputs and module updates to the gates' dtype
        fusion.to(device=bb.device, dtype=torch.float32)
        fusion.attach(model)
        for pname, param in model.named_parameters():
            param.requires_grad = train is not None and pname.startswith("lora_fusion.")

    def save_composition(self, bb: Backbone, comp: Composition, path: Path) -> None:
        """The merged module (peft folder `merged/`) or the LoRA fusion weights; stack has none."""
        if comp.setup == "merge":
            (path / MERGED).mkdir(exist_ok=True)
            self.save(bb, MERGED, path / MERGED)
        elif comp.setup == "fuse":
            bb.model.lora_fusion.save(path)

    def load_composition(self, bb: Backbone, comp: Composition, path: Path) -> None:
        """Read what save_composition wrote (compose() then activates it)."""
        if comp.setup == "merge":
            self.load(bb, path / MERGED, MERGED)
        elif comp.setup == "fuse":
            bb.model.lora_fusion = LoraFusion.load(path, comp.inter)


def _check_targets(bb: Backbone, targets: list[str]) -> None:
    """Refuse `lora.target_modules` naming no Linear layer of the base, listing the names it has
    (peft would raise a bare error deep inside)."""
    linear = [n for n, m in bb.model.named_modules()
              if isinstance(m, torch.nn.Linear) or type(m).__name__.startswith("Linear")]
    # peft matches a target against the end of a module's dotted name ("query", "self.query")
    missing = [t for t in targets if not any(n == t or n.endswith("." + t) for n in linear)]
    if missing or not targets:
        from adapterx.errors import UnknownChoiceError

        names = {n.rsplit(".", 1)[-1] for n in linear}
        raise UnknownChoiceError("lora.target_modules entry", ",".join(missing) or "(empty)", names,
                                 hint="name Linear layers of the base, e.g. lora.target_modules=query,value")
