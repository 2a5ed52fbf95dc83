"""Predictions of a loaded run or module (adapterx.assemble.load) on new inputs: the inputs become
the task's normalized examples, which go through the same features and prediction code as
evaluation (adapterx.evaluation.predict), or, for retrieval, the same sentence vectors.

Inputs and outputs per task kind:

- classification: "text" or (text_a, text_b) or {"text_a", "text_b"?} -> {"label", "probabilities"}
- multiple choice: {"context"?, "question"?, "choices"} -> {"choice", "probabilities"}
- QA: {"question", "context"} -> {"answer", "score"}
- tagging: [token, ...] or {"tokens"} (a string: split on whitespace) -> {"tags"}
- retrieval: "text" or {"text"} -> {"vector"}
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from adapterx.errors import AdapterxError, DataError

if TYPE_CHECKING:
    from adapterx.assemble import Loaded
    from adapterx.tasks import Task

# What an input holds, per task kind (required fields first), as error messages and --help show it.
FIELDS = {
    "classification": "text_a (and text_b for a pair); in .txt: one text per line, a tab before text_b",
    "multiple_choice": "choices (a list), and context and/or question; .jsonl only",
    "qa": "question and context; in .txt: question<TAB>context",
    "tagging": "tokens (a list of words); in .txt: one sentence per line, words split on spaces",
    "retrieval": "text; in .txt: one text per line",
}


def _bad(kind: str, where: str, problem: str) -> DataError:
    return DataError(f"{where}: {problem}", hint=f"a {kind.replace('_', ' ')} input has {FIELDS[kind]}")


def _text(value: Any, kind: str, where: str, name: str) -> str:
    if not isinstance(value, str):
        raise _bad(kind, where, f"{name} must be a string, got {type(value).__name__}")
    return value


def to_example(kind: str, item: Any, index: int, num_choices: int = 0, where: str | None = None) -> dict:
    """One input (see the module docstring) as the task's normalized, unlabelled example; errors
    name `where` (default: the input's position)."""
    where, eid = where or f"input {index + 1}", str(index)
    if isinstance(item, dict) and item.get("id") is not None:
        eid = str(item["id"])
    if kind in ("classification", "retrieval"):
        if isinstance(item, str):
            item = {"text_a": item} if kind == "classification" else {"text": item}
        elif isinstance(item, (list, tuple)) and kind == "classification" and 1 <= len(item) <= 2:
            item = {"text_a": item[0], "text_b": item[1] if len(item) == 2 else None}
        key = "text_a" if kind == "classification" else "text"
        if not isinstance(item, dict) or not isinstance(item.get(key, item.get("text")), str):
            raise _bad(kind, where, f"no {key} field")
        text = item.get(key, item.get("text"))
        if kind == "retrieval":
            return {"id": eid, "text": text}
        second = item.get("text_b")
        return {"id": eid, "text_a": text, "text_b": _text(second, kind, where, "text_b") if second else "",
                "label": ""}
    if kind == "multiple_choice":
        choices = item.get("choices") if isinstance(item, dict) else None
        if not isinstance(choices, list) or not all(isinstance(c, str) for c in choices):
            raise _bad(kind, where, "no choices list of strings")
        if len(choices) != num_choices:
            raise _bad(kind, where, f"{len(choices)} choices; this model takes exactly {num_choices}")
        return {"id": eid, "context": _text(item.get("context", ""), kind, where, "context"),
                "question": _text(item.get("question", ""), kind, where, "question"), "choices": choices,
                "label": -1}
    if kind == "qa":
        if isinstance(item, (list, tuple)) and len(item) == 2:
            item = {"question": item[0], "context": item[1]}
        if not isinstance(item, dict) or not {"question", "context"} <= set(item):
            raise _bad(kind, where, "question and context are needed")
        return {"id": eid, "question": _text(item["question"], kind, where, "question"),
                "context": _text(item["context"], kind, where, "context"),
                "answers": {"text": [], "answer_start": []}}
    if kind == "tagging":
        tokens = item.get("tokens") if isinstance(item, dict) else item
        tokens = tokens.split() if isinstance(tokens, str) else tokens
        if not isinstance(tokens, (list, tuple)) or not tokens or not all(isinstance(t, str) for t in tokens):
            raise _bad(kind, where, "tokens must be a non-empty list of words")
        return {"id": eid, "tokens": list(tokens), "tags": []}
    raise AdapterxError(f"no predictions for task kind {kind!r}")


def embed_texts(loaded: Loaded, texts: list[str]) -> np.ndarray:
    """Sentence vectors of `texts`: the representation the retrieval recipe scores."""
    from adapterx.recipes.retrieval import embed, representations

    if loaded.task.kind != "retrieval":
        raise AdapterxError(f"{loaded.folder} predicts {loaded.task.name}, not sentence vectors",
                            "load it with target='tatoeba' (or --target tatoeba) for vectors")
    _, rep = representations(loaded.backbone, loaded.cfg, loaded.task.name)
    r = loaded.cfg.retrieval
    return embed(loaded.backbone, texts, [rep.hidden_state], r.max_seq_length, r.batch_size, rep.pool)[rep.hidden_state]


def predict(loaded: Loaded, inputs: list) -> list[dict]:
    """One prediction dict per input, in input order (fields per kind: see the module docstring)."""
    from adapterx.evaluation import predict as predict_examples
    from adapterx.methods import get_method

    task = loaded.task
    if isinstance(inputs, (str, dict)):
        raise AdapterxError("predict takes a list of inputs", "wrap a single input in a list: [x]")
    examples = [to_example(task.kind, item, i, task.num_choices) for i, item in enumerate(inputs)]
    if not examples:
        return []
    if task.kind == "retrieval":
        vectors = embed_texts(loaded, [ex["text"] for ex in examples])
        return [{"id": ex["id"], "vector": row.tolist()} for ex, row in zip(examples, vectors)]
    ids = [ex["id"] for ex in examples]
    if len(set(ids)) < len(ids) and task.kind == "qa":  # answers are matched to questions by id
        raise DataError("two inputs have the same id", hint="give every input its own id, or none")
    with get_method(loaded.meta["method"]).eval_context(loaded.backbone):  # as `adapterx eval` runs it
        out = predict_examples(loaded.model, task, examples, loaded.tokenizer, loaded.settings,
                               loaded.backbone.device)
    if task.kind == "qa":
        return [{"id": i, "answer": out.predictions[i], "score": out.confidence[i]} for i in ids]
    if task.kind == "tagging":
        return [{"id": i, "tags": tags} for i, tags in zip(ids, out.predictions)]
    if task.kind == "classification":
        return [{"id": i, "label": label, "probabilities": dict(zip(task.labels, map(float, probs)))}
                for i, label, probs in zip(ids, out.predictions, out.confidence)]
    return [{"id": i, "choice": int(c), "probabilities": [float(p) for p in probs]}
            for i, c, probs in zip(ids, out.predictions, out.confidence)]


def read_inputs(path: str | Path, task: Task) -> list:
    """Inputs for `task` from a .jsonl file (one object per line) or a text file (one input per
    line, see FIELDS), checked; errors name the file and line and the fields the task expects."""
    path, kind = Path(path), task.kind
    expected = f"a {kind.replace('_', ' ')} input has {FIELDS[kind]}"
    if not path.is_file():
        raise DataError(f"input file {path} does not exist", hint=f"pass a .txt or .jsonl file; {expected}")
    lines = path.read_text(encoding="utf-8").splitlines()
    out: list = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        if path.suffix == ".jsonl":
            try:
                item = json.loads(line)
            except json.JSONDecodeError as err:
                raise DataError(f"not JSON ({err.msg})", path, number, hint=expected) from None
        elif kind == "multiple_choice":
            raise DataError(f"{path}: multiple-choice inputs need a .jsonl file", hint=expected)
        else:
            parts = line.split("\t")
            if kind == "qa" and len(parts) != 2:
                raise DataError("expected question<TAB>context", path, number, hint=expected)
            if kind == "classification" and len(parts) > 2:
                raise DataError(f"{len(parts)} tab-separated fields; a pair has 2", path, number, hint=expected)
            item = line if kind in ("retrieval", "tagging") else tuple(parts)
        to_example(kind, item, len(out), task.num_choices, where=f"{path}, line {number}")  # checked now
        out.append(item)
    return out


def write_outputs(rows: list[dict], output: str | Path | None) -> None:
    """Predictions as JSON lines, to `output` (written whole, then renamed) or stdout."""
    text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    if output is None:
        import sys

        sys.stdout.write(text)
        return
    import os

    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(f".{output.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, output)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def predict_file(path: str | Path, input: str | Path, output: str | Path | None = None, model: str | None = None,
                 target: str | None = None, device: str = "auto", dtype: str = "auto") -> int:
    """`adapterx predict`: the inputs are checked before the model is built; returns how many
    predictions were written."""
    from adapterx.assemble import load, module_folder, resolve_task
    from adapterx.store import read_meta

    folder = module_folder(path)
    task = resolve_task(read_meta(folder), target, folder)
    inputs = read_inputs(input, task)
    rows = load(path, device=device, dtype=dtype, model=model, target=target).predict(inputs)
    write_outputs(rows, output)
    return len(rows)
