"""IA3 modules through peft's IA3Config; saved as plain peft folders (no modeling code here)."""

from __future__ import annotations

from adapterx.backbone import Backbone
from adapterx.methods.ia3.settings import IA3Settings
from adapterx.methods.peft_shared import PeftMethod, check_linear_targets


class IA3Method(PeftMethod):
    """Learned per-channel scales of the frozen base's Linear layers (peft IA3)."""

    name = "ia3"
    peft_type = "IA3"

    def peft_config(self, bb: Backbone, settings: IA3Settings):
        """peft's IA3Config for `settings`, after checking the named layers exist."""
        from peft import IA3Config

        check_linear_targets(bb, list(settings.target_modules), "ia3.target_modules")
        return IA3Config(target_modules=list(settings.target_modules),
                         feedforward_modules=list(settings.feedforward_modules))

    def owns(self, param_name: str, module: str) -> bool:
        """IA3 vectors are named `<layer>.ia3_l.<module>`."""
        return param_name.endswith(f".ia3_l.{module}")
