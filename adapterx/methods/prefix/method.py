"""Prefix-tuning modules through peft's PrefixTuningConfig; saved as plain peft folders.

peft injects the prefix as `past_key_values` (and widens the attention mask) in the forward of
its task model classes, not in the bare `PeftModel`: modules are made with task_type
FEATURE_EXTRACTION, so the bare encoder is wrapped in PeftModelForFeatureExtraction, which
returns the real tokens' hidden states for adapterx's heads (plain peft picks the same class
from the saved config)."""

from __future__ import annotations

from pathlib import Path

from adapterx.backbone import Backbone
from adapterx.errors import AdapterxError
from adapterx.methods.peft_shared import PeftMethod
from adapterx.methods.prefix.settings import PrefixSettings

TASK_TYPE = "FEATURE_EXTRACTION"


class PrefixMethod(PeftMethod):
    """Learned key/value prefixes in every attention layer of the frozen base (peft)."""

    name = "prefix"
    peft_type = "PREFIX_TUNING"

    def peft_config(self, bb: Backbone, settings: PrefixSettings):
        """peft's PrefixTuningConfig for `settings` on `bb`'s encoder."""
        from peft import PrefixTuningConfig

        return PrefixTuningConfig(task_type=TASK_TYPE, num_virtual_tokens=settings.num_virtual_tokens,
                                  prefix_projection=settings.prefix_projection,
                                  encoder_hidden_size=settings.encoder_hidden_size or bb.hidden_size)

    def owns(self, param_name: str, module: str) -> bool:
        """A prefix's weights are under `prompt_encoder.<module>.`."""
        return param_name.startswith(f"prompt_encoder.{module}.")

    def add(self, bb: Backbone, name: str, settings: PrefixSettings) -> None:
        """Attach a fresh prefix (and the check that inputs fit the base's positions)."""
        super().add(bb, name, settings)
        _guard_positions(bb)

    def load(self, bb: Backbone, path: Path, name: str, trainable: bool = False) -> None:
        """Attach a saved prefix, frozen unless `trainable`.

        peft loads prompt-learning modules for inference only; to continue one (sequential) a new
        trainable prefix of the same config takes the saved prefix (peft's load_prompt_embeddings)."""
        if not trainable:
            super().load(bb, path, name)
        else:
            from peft import PeftModel, get_peft_model
            from safetensors.torch import load_file

            config = self.saved_config(path)
            if config.prefix_projection:
                raise AdapterxError(f"{path} was trained with prefix.prefix_projection=true: peft saves only the "
                                    "projected prefix, so its training cannot be continued",
                                    "train the intermediate module with prefix.prefix_projection=false for "
                                    "sequential, or use the direct setup")
            config.inference_mode = False
            if isinstance(bb.model, PeftModel):
                bb.model.add_adapter(name, config)
            else:
                bb.model = get_peft_model(bb.model, config, adapter_name=name)
            saved = load_file(str(path / "adapter_model.safetensors"))["prompt_embeddings"]
            bb.model.prompt_encoder[name].load_prompt_embeddings(saved)
        _guard_positions(bb)

    def activate(self, bb: Backbone, names: list[str]) -> None:
        """One prefix at a time: peft's prompt learning has no several active adapters."""
        if len(names) != 1:
            raise AdapterxError(f"prefix tuning runs one module at a time, not {len(names)}: {', '.join(names)}",
                                "use --method lora or ia3 to stack modules")
        bb.model.set_adapter(names[0])


def _guard_positions(bb: Backbone) -> None:
    """A clear error instead of an embedding IndexError when prefix + input exceed the base's
    position embeddings (the prefix shifts the real tokens' position ids by its length)."""
    model = bb.model
    if getattr(model, "_adapterx_position_guard", False):
        return
    config = model.get_base_model().config
    # RoBERTa-style positions start after the padding index
    offset = config.pad_token_id + 1 if config.model_type in ("roberta", "xlm-roberta", "camembert") else 0
    limit = getattr(config, "max_position_embeddings", None)

    def check(module, args, kwargs):
        ids = kwargs.get("input_ids") if kwargs.get("input_ids") is not None else (args[0] if args else None)
        n_prefix = module.active_peft_config.num_virtual_tokens
        if limit is not None and ids is not None and offset + n_prefix + ids.shape[-1] > limit:
            raise AdapterxError(
                f"{ids.shape[-1]} tokens + a prefix of {n_prefix} exceed the base's {limit - offset} positions",
                f"set training.max_seq_length (or retrieval.max_seq_length) to at most {limit - offset - n_prefix}, "
                "or a smaller prefix.num_virtual_tokens")

    model.register_forward_pre_hook(check, with_kwargs=True)
    model._adapterx_position_guard = True
