"""Is the Hugging Face Hub reachable? One short TCP probe per process, before the first Hub access.

Without it an unreachable Hub costs ~35 s of retries (huggingface_hub's backoff, then datasets')
before the error. When the probe fails, the libraries are switched to offline mode: what is in the
local cache still loads, and what is not fails at once with the `--model DIR` / `--data-dir` hint.
`HF_HUB_OFFLINE=1` skips the probe (the libraries honour it themselves)."""

from __future__ import annotations

import os
import socket
import sys
from urllib.parse import urlparse

PROBE_TIMEOUT_S = 1.5  # a reachable Hub answers a TCP connect far faster; the issue asks for ~1 s
PROBE_ENV = "ADAPTERX_HUB_PROBE"  # 0: never probe (e.g. behind a proxy that blocks plain connects)
_TRUE = {"1", "true", "yes", "on"}
_state: dict[str, str | None] = {}  # "reason" once probed: None = reachable


def _offline_env() -> str | None:
    for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
        if os.environ.get(name, "").strip().lower() in _TRUE:
            return name
    return None


def _probe_target() -> tuple[str, int, str]:
    """(host, port, url) the probe connects to: the endpoint, or the proxy requests would use."""
    endpoint = os.environ.get("HF_ENDPOINT") or "https://huggingface.co"
    parsed = urlparse(endpoint)
    proxy = os.environ.get(f"{parsed.scheme}_proxy") or os.environ.get(f"{parsed.scheme.upper()}_PROXY")
    target = urlparse(proxy) if proxy else parsed
    port = target.port or (443 if target.scheme == "https" else 80)
    return target.hostname or "", port, proxy or endpoint


def _switch_offline() -> None:
    """Offline mode for huggingface_hub, datasets and transformers, imported already or not."""
    os.environ["HF_HUB_OFFLINE"] = "1"  # read by the libraries imported from now on
    # the ones imported already read their flags at import: set them where they live
    for module, names in (("huggingface_hub.constants", ("HF_HUB_OFFLINE",)),
                          ("datasets.config", ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE")),
                          ("transformers.utils.hub", ("_is_offline_mode",))):
        loaded = sys.modules.get(module)
        for name in names:
            if loaded is not None and hasattr(loaded, name):
                setattr(loaded, name, True)


def check_hub() -> str | None:
    """None when the Hub may be used; otherwise why not (offline mode is then on)."""
    if "reason" in _state:
        return _state["reason"]
    env = _offline_env()
    if env is not None:
        reason: str | None = f"offline mode is on ({env}=1)"
    elif os.environ.get(PROBE_ENV, "1").strip().lower() not in _TRUE:
        reason = None
    else:
        host, port, url = _probe_target()
        try:
            socket.create_connection((host, port), timeout=PROBE_TIMEOUT_S).close()
            reason = None
        except OSError as err:
            reason = f"the Hub ({url}) did not answer within {PROBE_TIMEOUT_S:g} s ({err.strerror or err})"
            _switch_offline()
    _state["reason"] = reason
    return reason
