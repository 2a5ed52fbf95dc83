"""Modules <-> the Hugging Face Hub: `adapterx push` uploads a finished module with a generated
model card; `adapterx pull` places one in the module cache at the path its key implies.

The token is never handled here: huggingface_hub reads it from HF_TOKEN or the stored login."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

from adapterx.cache import SAFE_NAME, default_modules_dir, module_relpath
from adapterx.errors import AdapterxError, HubUnreachableError
from adapterx.model_card import model_card, read_results
from adapterx.module_meta import PICKLE_SUFFIXES, refuse_pickles, validate_meta
from adapterx.store import DONE_MARKER, META_FILE, atomic_dir, entry_lock, is_complete, read_meta, write_meta

PARTS_DIR = "parts"  # a composite's intermediate modules, one sub-folder each, in the Hub repo
CARD_FILE = "README.md"
LOGIN_HINT = "log in with `huggingface-cli login` (or `hf auth login`), or set HF_TOKEN to a token with write access"
PUSHABLE = ("module", "target")
# What pull downloads: the files a module folder holds (configs, safetensors weights, training-text
# hashes, tokenizer files of a full model, results, card); nothing pickled is ever fetched.
MODULE_FILES = ["*.json", "*.safetensors", "*.npy", "*.model", "*.txt", CARD_FILE]


def check_repo_id(repo: str) -> str:
    """`user/name`, as the Hub spells repository ids."""
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    try:
        validate_repo_id(repo)
    except HFValidationError as err:
        raise AdapterxError(f"invalid Hub repository id {repo!r}: {err}",
                            "use user/name, e.g. alice/mnli-lora") from None
    if "/" not in repo:
        raise AdapterxError(f"invalid Hub repository id {repo!r}: it needs a namespace",
                            f"use user/name, e.g. alice/{repo}")
    return repo


@contextlib.contextmanager
def hub_errors(action: str, repo: str, revision: str | None = None) -> Iterator[None]:
    """Turn huggingface_hub / network failures into errors that say what to do."""
    from huggingface_hub import errors as hf

    from adapterx.data.hub import is_unreachable  # one definition of "the Hub is unreachable"

    try:
        yield
    except AdapterxError:
        raise
    except Exception as err:  # noqa: BLE001  (translated below, or re-raised unchanged)
        text = f"{type(err).__name__}: {err}".splitlines()[0][:240]  # urllib3 chains run long
        if is_unreachable(err):
            raise HubUnreachableError(
                f"the Hugging Face Hub is unreachable, so {repo} could not be {action} ({text})",
                "check the network or proxy (HF_ENDPOINT), unset HF_HUB_OFFLINE, and try again") from None
        if isinstance(err, hf.GatedRepoError):
            raise AdapterxError(f"{repo} is gated on the Hub ({text})", "ask for access on its page, then "
                                + LOGIN_HINT) from None
        if isinstance(err, hf.RevisionNotFoundError):
            raise AdapterxError(f"{repo} has no revision {revision!r}",
                                "check the branch or tag name, or leave out --revision (main)") from None
        if isinstance(err, hf.RepositoryNotFoundError):
            raise AdapterxError(f"{repo} was not found on the Hub (or it is private and your token has no "
                                "access)", "check the name; for a private repository " + LOGIN_HINT) from None
        status = getattr(getattr(err, "response", None), "status_code", None)
        if isinstance(err, hf.HfHubHTTPError) and status in (401, 403):
            raise AdapterxError(f"the Hub refused: {repo} could not be {action} (HTTP {status})", LOGIN_HINT) from None
        if isinstance(err, hf.HfHubHTTPError):
            raise AdapterxError(f"the Hub answered with an error, so {repo} could not be {action} ({text})") from None
        raise


def module_meta(folder: Path) -> dict:
    """adapterx.json of a complete, pushable module (a composite's parts must be here too)."""
    folder = Path(folder)
    if folder.is_dir() and (folder / "module" / META_FILE).is_file() and (folder / "results.json").is_file():
        raise AdapterxError(f"{folder} is a run folder; its module is in {folder / 'module'}",
                            f"pass {folder / 'module'}")
    meta = read_meta(folder)  # refuses folders without adapterx.json or .complete
    if meta.get("kind") not in PUSHABLE or "base_model" not in meta:
        raise AdapterxError(f"{folder} is not an adapterx module (its adapterx.json says kind "
                            f"{meta.get('kind')!r})", "push a module folder from `adapterx train`, or a run's module/")
    for part in meta.get("modules", []):
        path = Path(part["path"])
        if not is_complete(path):
            raise AdapterxError(f"{folder} is composed with the {part['task']} module at {path}, which is not a "
                                "complete module on this machine", "push from the machine that trained it, "
                                "or train the intermediate module again with the same settings")
    return meta


def _place(src: Path, dst: Path) -> None:
    """Hard-link a file (no copy of large weights), falling back to a copy across file systems."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _stage_folder(src: Path, dst: Path) -> None:
    for path in sorted(Path(src).rglob("*")):
        rel = path.relative_to(src)
        # the done marker belongs to the cache (pull writes its own); the card is regenerated
        if path.is_file() and not path.is_symlink() and rel.parts[0] not in (DONE_MARKER, CARD_FILE) \
                and not any(p.startswith(".") for p in rel.parts):
            _place(path, dst / rel)


def stage(folder: Path, meta: dict, out: Path, repo: str, revision: str | None = None,
          license: str | None = None) -> dict:
    """Lay out in `out` what the Hub repository will hold; returns the adapterx.json pushed."""
    _stage_folder(folder, out)
    pushed = dict(meta)
    if meta.get("modules"):  # parts travel inside, named by task; local paths stay local
        pushed["modules"] = []
        for part in meta["modules"]:
            _stage_folder(Path(part["path"]), out / PARTS_DIR / part["task"])
            pushed["modules"].append({**part, "path": f"{PARTS_DIR}/{part['task']}"})
        (out / META_FILE).unlink()
        write_meta(out, pushed)
    results = read_results(folder)
    from adapterx.report.results import RESULTS_FILE, write_results  # here: it imports torch, push/pull need not

    if results is not None and not (out / RESULTS_FILE).exists():
        write_results(out, results)
    card = model_card(pushed, repo, results, revision, license)
    (out / CARD_FILE).write_text(card, encoding="utf-8")
    return pushed


def push(module_dir: str | Path, repo: str, private: bool = False, revision: str | None = None,
         license: str | None = None, commit_message: str | None = None) -> str:
    """Upload a module folder (or a run's module/ with its parts) plus a model card to the Hub
    repository `repo` (created if missing, `revision` a branch); returns its URL."""
    import huggingface_hub

    check_repo_id(repo)
    folder = Path(module_dir)
    meta = module_meta(folder)
    if not huggingface_hub.get_token():
        raise AdapterxError("no Hugging Face token found: pushing needs one", LOGIN_HINT)
    api = huggingface_hub.HfApi()
    with tempfile.TemporaryDirectory(prefix="adapterx-push-") as tmp:
        stage(folder, meta, Path(tmp), repo, revision, license)
        with hub_errors("pushed", repo, revision):
            api.create_repo(repo, private=private, exist_ok=True)
            if revision:
                api.create_branch(repo, branch=revision, exist_ok=True)
            # the repository mirrors the module: files of an earlier push that this one lacks go
            api.upload_folder(repo_id=repo, folder_path=tmp, revision=revision, delete_patterns=["*"],
                              commit_message=commit_message or f"adapterx push: {meta['task']} {meta['method']} "
                                                                f"module {meta['key']}")
    url = f"{huggingface_hub.constants.ENDPOINT}/{repo}" + (f"/tree/{revision}" if revision else "")
    return url


def _remote_meta(staging: Path, repo: str) -> dict:
    path = staging / META_FILE
    if not path.is_file():
        raise AdapterxError(f"{repo} holds no {META_FILE}: it is not an adapterx module",
                            "pull repositories made with `adapterx push`")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as err:
        raise AdapterxError(f"{repo}'s {META_FILE} is not valid JSON ({err})") from None
    validate_meta(meta, f"{repo}'s {META_FILE}")
    if meta.get("kind") not in PUSHABLE or "base_model" not in meta:
        raise AdapterxError(f"{repo}'s {META_FILE} does not describe an adapterx module",
                            "pull repositories made with `adapterx push`")
    return meta


def refuse_pickled_repo(repo: str, revision: str | None) -> None:
    """Refuse a Hub repository that holds pickled weights, naming them, before downloading it."""
    import huggingface_hub

    pickled = [f for f in huggingface_hub.HfApi().list_repo_files(repo, revision=revision)
               if Path(f).suffix.lower() in PICKLE_SUFFIXES]
    if pickled:
        raise AdapterxError(f"{repo} holds pickled weight files ({', '.join(sorted(pickled)[:5])}); adapterx "
                            "pulls modules whose weights are safetensors only, since unpickling can run code",
                            "ask its owner to push it again with adapterx push (safetensors), or convert the "
                            "files and push them yourself")


def _install(src: Path, meta: dict, modules_dir: Path) -> Path:
    """Move a downloaded module into the cache at its key's path (atomically, with .complete)."""
    final = modules_dir / module_relpath(meta)
    with entry_lock(final):
        if is_complete(final) and read_meta(final).get("key") == meta.get("key"):
            return final  # already there (pulled or trained before)
        with atomic_dir(final) as tmp:
            for item in sorted(src.iterdir()):
                if not item.name.startswith(".") and item.name != PARTS_DIR:
                    shutil.move(str(item), str(tmp / item.name))
            write_meta(tmp, meta)
    read_meta(final)  # verifies: adapterx.json and .complete in place
    return final


def pull(repo: str, revision: str | None = None, modules_dir: str | Path | None = None) -> Path:
    """Download a pushed module into the module cache (modules/<task>/<method>-<key>/, with a
    composite's parts beside their own keys) and return its folder."""
    import huggingface_hub

    check_repo_id(repo)
    root = Path(modules_dir or default_modules_dir())
    root.mkdir(parents=True, exist_ok=True)
    # named with our pid, so `cache prune --incomplete` removes it only once we are gone
    staging = root / f".pull-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    try:
        with hub_errors("pulled", repo, revision):
            huggingface_hub.snapshot_download(repo, revision=revision, local_dir=staging,
                                              allow_patterns=[META_FILE])
            meta = _remote_meta(staging, repo)
            module_relpath(meta)  # refuse unsafe names before downloading everything
            final = root / module_relpath(meta)
            if is_complete(final) and read_meta(final).get("key") == meta.get("key"):
                return final
            refuse_pickled_repo(repo, revision)
            huggingface_hub.snapshot_download(repo, revision=revision, local_dir=staging,
                                              allow_patterns=MODULE_FILES)
        meta = _remote_meta(staging, repo)
        refuse_pickles(staging)  # nothing pickled arrived (the patterns above let none through)
        parts = []
        for part in meta.get("modules", []):
            if not SAFE_NAME.match(str(part.get("task", ""))):  # it names a folder we read from
                raise AdapterxError(f"{repo}'s {META_FILE} names an unsafe part {part.get('task')!r}")
            src = staging / PARTS_DIR / part["task"]
            part_meta = _remote_meta(src, f"{repo} ({PARTS_DIR}/{part['task']})")
            parts.append({**part, "path": str(_install(src, part_meta, root).resolve())})
        if parts:  # the composite now points at its parts' places in this cache
            meta = {**meta, "modules": parts}
        return _install(staging, meta, root)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def push_preview(module_dir: str | Path, repo: str, out: str | Path | None = None, revision: str | None = None,
                 license: str | None = None) -> Path:
    """`push --dry-run`: lay out in `out` (default push-preview/<user>__<name>) exactly what `push`
    would upload, model card included, with no token and no network; returns that folder."""
    check_repo_id(repo)
    folder = Path(module_dir)
    meta = module_meta(folder)
    out = Path(out) if out else Path("push-preview") / repo.replace("/", "__")
    if out.exists() and any(out.iterdir()) and not (out / CARD_FILE).is_file():
        raise AdapterxError(f"{out} exists and is not an earlier push preview", "choose another folder with --out")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".push-preview-", dir=out.parent))
    try:
        stage(folder, meta, tmp, repo, revision, license)
        if out.exists():
            shutil.rmtree(out)  # an earlier preview: replaced whole, like the repository would be
        os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out
