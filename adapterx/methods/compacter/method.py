"""Compacter through the `adapters` library: the bottleneck method with PHM projections."""

from __future__ import annotations

from adapterx.backbone import Backbone
from adapterx.errors import AdapterxError
from adapterx.methods.bottleneck.method import BottleneckMethod
from adapterx.methods.compacter.settings import CompacterSettings


class CompacterMethod(BottleneckMethod):
    """Compacter++ (CompacterPlusPlusConfig) or Compacter (CompacterConfig); Stack and Fuse as
    bottleneck adapters, since `adapters` runs both through its bottleneck layer."""

    name = "compacter"
    fuse_hint = "train every intermediate module with the same compacter.architecture (compacter++ or compacter)"

    def adapter_config(self, bb: Backbone, settings: CompacterSettings):
        """The library's config, after checking the PHM shapes fit the base (its assertion is cryptic)."""
        from adapters import CompacterConfig, CompacterPlusPlusConfig

        hidden = bb.model.config.hidden_size
        bottleneck = max(int(hidden // settings.reduction_factor), 1)  # as adapters' Adapter sizes it
        if hidden % settings.phm_dim or bottleneck % settings.phm_dim:
            raise AdapterxError(
                f"compacter.phm_dim={settings.phm_dim} must divide the hidden size ({hidden}) and the "
                f"bottleneck size ({hidden} // compacter.reduction_factor={settings.reduction_factor} = {bottleneck})",
                "pick a phm_dim that divides both (e.g. 2 or 4), or a smaller compacter.reduction_factor")
        cls = CompacterPlusPlusConfig if settings.architecture == "compacter++" else CompacterConfig
        return cls(reduction_factor=settings.reduction_factor, phm_dim=settings.phm_dim,
                   phm_rank=settings.phm_rank, non_linearity=settings.non_linearity)
