"""LoRA merging through peft's `add_weighted_adapter`, with its traps handled.

peft's `linear`, `ties`, `dare_*` and `magnitude_prune` kinds combine the A and the B matrices
separately: that needs equal ranks, and for linear it is not the merge of the updates
(B1 A1 + B2 A2 is not (B1 + B2)(A1 + A2)). adapterx therefore merges the modules' *updates*
(scale * B @ A) by default (`merge.space=delta`):

| --how            | peft combination   | result                                                  |
|------------------|--------------------|---------------------------------------------------------|
| linear, cat      | cat                | exactly sum_i w_i * delta_i (rank = sum of ranks)        |
| svd              | svd                | sum_i w_i * delta_i truncated to merge.svd_rank          |
| ties             | ties_svd           | TIES (trim, elect sign, disjoint mean) on the updates    |
| dare_linear      | dare_linear_svd    | DARE (drop and rescale) then sum, on the updates         |
| dare_ties        | dare_ties_svd      | DARE then TIES, on the updates                           |
| magnitude_prune  | magnitude_prune_svd| magnitude pruning then sum, on the updates               |

The `*_svd` kinds end with an SVD to `merge.svd_rank` (default: the sum of the modules' ranks,
which loses nothing for `svd`). `merge.space=ab` runs peft's A/B kinds as they are, for users who
want to reproduce them; they need modules of equal rank, and adapterx refuses otherwise.
"""

from __future__ import annotations

from adapterx.configs.methods import MergeSettings
from adapterx.errors import AdapterxError

MERGED = "merged"  # name of the merged module inside the model
DELTA_KINDS = {"linear": "cat", "cat": "cat", "svd": "svd", "ties": "ties_svd",
               "dare_linear": "dare_linear_svd", "dare_ties": "dare_ties_svd",
               "magnitude_prune": "magnitude_prune_svd"}
AB_KINDS = {"linear": "linear", "cat": "cat", "svd": "svd", "ties": "ties", "dare_linear": "dare_linear",
            "dare_ties": "dare_ties", "magnitude_prune": "magnitude_prune"}


def module_rank(config) -> int:
    """The largest rank a peft LoRA config gives any layer."""
    pattern = getattr(config, "rank_pattern", None) or {}
    return max([config.r, *pattern.values()])


def peft_combination(settings: MergeSettings, ranks: list[int]) -> tuple[str, int | None]:
    """peft's combination type and svd rank for `settings`; refuses what peft would get wrong."""
    if settings.space == "ab":
        kind = AB_KINDS[settings.how]
        if kind not in ("cat", "svd") and len(set(ranks)) > 1:
            raise AdapterxError(
                f"merge.space=ab with --how {settings.how} merges the A and B matrices separately, "
                f"which needs modules of one rank; these have ranks {ranks}",
                "use the default merge.space=delta (merges the updates, any ranks), or train the "
                "modules with one lora.r")
    else:
        kind = DELTA_KINDS[settings.how]
    svd_rank = (settings.svd_rank or sum(ranks)) if kind.endswith("svd") else None
    return kind, svd_rank


def merge_modules(peft_model, modules: tuple[str, ...], settings: MergeSettings,
                  name: str = MERGED) -> dict:
    """Add module `name` = the weighted merge of `modules` (all loaded); returns what was done."""
    for module in modules:
        if module not in peft_model.peft_config:
            raise AdapterxError(f"LoRA module {module!r} is not loaded")
        if getattr(peft_model.peft_config[module], "use_dora", False):
            raise AdapterxError(f"module {module!r} is a DoRA module; peft cannot merge DoRA modules")
    ranks = [module_rank(peft_model.peft_config[m]) for m in modules]
    weights = settings.weights_for(len(modules))
    kind, svd_rank = peft_combination(settings, ranks)
    kwargs = {}
    if kind.startswith(("ties", "dare", "magnitude")):
        kwargs["density"] = settings.density
    if kind.startswith(("ties", "dare_ties")):
        kwargs["majority_sign_method"] = settings.majority_sign
    if kind.endswith("svd"):
        kwargs.update(svd_rank=svd_rank, svd_full_matrices=False)  # thin SVD: same result, less work
    try:
        peft_model.add_weighted_adapter(list(modules), weights, name, combination_type=kind, **kwargs)
    except (ValueError, TypeError) as err:
        raise AdapterxError(f"peft could not merge {', '.join(modules)} with {kind}: {err}",
                            "try --how linear (exact, any ranks)") from err
    return {"how": settings.how, "peft_combination": kind, "weights": weights, "ranks": ranks,
            "svd_rank": svd_rank, "space": settings.space, **kwargs}
