"""Write the tiny synthetic datasets of ``adapterx/presets/tiny_data/`` (deterministic, stdlib only).

Every file is in its dataset's own distribution format and named as published (DESIGN.md, "Local
data layout"), so the offline demo and the tests exercise the same readers as real downloads. All
text is our own template sentences; nothing is copied from a real dataset. The translations are
short hand-written templates: good enough for a plumbing demo, not for measuring accuracy.

    python tools/make_tiny_data.py [OUT_DIR]
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

# Run as a script (``python tools/make_tiny_data.py``), this file's folder is on sys.path;
# put it there for other ways of loading it too, so the sibling tables module is found.
_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from tiny_data_templates import (  # noqa: E402  (after the sys.path set-up above)
    FACTS, SEP, EN_NAMES, EN_CITIES, EN_JOBS, EN_PETS, EN_FOODS, EN_FACTS, COPA, COPA_ITEMS,
    EN_COPA_EXTRA, EN_COPA_ITEMS, SIQA_ITEMS, XNLI_LANGS, XQUAD_LANGS, TYDIQA_LANGS, XCOPA_LANGS,
    PUNCT, NLI_CYCLE, MNLI_GENRES, XNLI_GENRES,
)

OUT = Path(__file__).resolve().parents[1] / "adapterx" / "presets" / "tiny_data"


# ---------------------------------------------------------------------------------------------
# Writers
# ---------------------------------------------------------------------------------------------

def _write(path: Path, text: str) -> None:
    """Write UTF-8 text with Unix newlines (byte-identical on every platform)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def _write_json(path: Path, obj: object) -> None:
    """Write one JSON document as SQuAD and its relatives distribute them (a single line)."""
    _write(path, json.dumps(obj, ensure_ascii=False) + "\n")


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    """Write one JSON object per line."""
    _write(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))


def _write_tsv(path: Path, header: list[str], rows: list[dict]) -> None:
    """Write a GLUE-style TSV: header row, tab-separated, no quoting."""
    lines = ["\t".join(header)]
    for r in rows:
        assert not any("\t" in str(r[h]) or "\n" in str(r[h]) for h in header)
        lines.append("\t".join(str(r[h]) for h in header))
    _write(path, "\n".join(lines) + "\n")


def _tokens(sentence: str) -> list[str]:
    """Whitespace tokens with leading/trailing punctuation split off (XNLI's *_tokenized look)."""
    out: list[str] = []
    for chunk in sentence.split():
        head, tail = [], []
        while chunk and chunk[0] in PUNCT:
            head.append(chunk[0])
            chunk = chunk[1:]
        while chunk and chunk[-1] in PUNCT:
            tail.insert(0, chunk[-1])
            chunk = chunk[:-1]
        out += head + ([chunk] if chunk else []) + tail
    return out


def _binary_parse(sentence: str) -> str:
    """A right-branching bracketing: the files need the column, nobody trains on it."""
    toks = _tokens(sentence)
    tree = toks[-1]
    for t in reversed(toks[:-1]):
        tree = f"( {t} {tree} )"
    return tree


def _parse(sentence: str) -> str:
    """A flat constituency-style parse with a placeholder tag per token."""
    return "(ROOT (S " + " ".join(f"(X {t})" for t in _tokens(sentence)) + "))"


# ---------------------------------------------------------------------------------------------
# Extractive QA (SQuAD, XQuAD, TyDiQA-GoldP)
# ---------------------------------------------------------------------------------------------
# A person is (sentences, questions); a question is (sentence index, question text, answer), the
# answer being the first occurrence of that text in its sentence.
Person = tuple[list[str], list[tuple[int, str, str]]]


def _person(lang: str, i: int, year: int) -> Person:
    """Three facts about person ``i`` of ``lang``'s lexicon (city, job, birth year)."""
    L = FACTS[lang]
    n, c, j = L["names"][i], L["cities"][(i + 2) % 5], L["jobs"][(i + 3) % 5]
    sents = [L["live"].format(n=n, c=c), L["job"].format(n=n, j=j), L["born"].format(n=n, y=year)]
    questions = [(0, L["q_live"].format(n=n), c), (1, L["q_job"].format(n=n), j),
                 (2, L["q_born"].format(n=n), str(year))]
    return sents, questions


def _en_person(rng: random.Random, n: str, used: set[str]) -> Person:
    """Four random English facts about ``n``, avoiding (and recording) values in ``used``."""
    def pick(pool: list[str]) -> str:
        value = rng.choice([v for v in pool if v not in used])
        used.add(value)
        return value

    years = [str(y) for y in range(1950, 2006)]
    slots = dict(n=n, c=pick(EN_CITIES), j=pick(EN_JOBS), y=pick(years), p=pick(EN_PETS),
                 f=pick(EN_FOODS))
    sents, questions = [], []
    for k, kind in enumerate(rng.sample(["live", "job", "born", "pet", "food"], 4)):
        if kind == "live" and rng.random() < 0.5:
            kind = "who"  # same sentence, asked the other way round: the answer is the name
        template, question, slot = EN_FACTS[kind]
        sents.append(template.format(**slots))
        questions.append((k, question.format(**slots), slots[slot]))
    return sents, questions


def _paragraph(people: list[Person], qids: list[str], sep: str) -> dict:
    """Join the people's sentences into one context and place every answer in it."""
    context, offsets, qas = "", [], []
    for sents, _ in people:
        offsets.append([])
        for sent in sents:
            context += sep if context else ""
            offsets[-1].append(len(context))
            context += sent
    it = iter(qids)
    for (sents, questions), offs in zip(people, offsets, strict=True):
        for k, question, answer in questions:
            start = offs[k] + sents[k].index(answer)
            # a template slip must fail here, not in a user's demo
            assert context[start:start + len(answer)] == answer, (question, answer)
            qas.append({"answers": [{"answer_start": start, "text": answer}],
                        "question": question, "id": next(it)})
    return {"context": context, "qas": qas}


def _squad_id(rng: random.Random) -> str:
    """A SQuAD-style id: 24 hex digits."""
    return f"{rng.getrandbits(96):024x}"


def _tydiqa_id(rng: random.Random, lang: str) -> str:
    """A TyDiQA-style id: the language's name, a 19-digit number, the question's index."""
    return f"{TYDIQA_LANGS[lang]}-{rng.randrange(10**18, 10**19)}-0"


def make_squad(out: Path) -> None:
    """SQuAD v1.1: paragraphs of two people, 4 questions each (64 train, 16 dev)."""
    rng = random.Random(303)
    names = rng.sample(EN_NAMES, len(EN_NAMES))
    for split, n_articles in (("train", 4), ("dev", 1)):
        articles = []
        for a in range(n_articles):
            paragraphs = []
            for _ in range(2):
                used: set[str] = set()
                people = [_en_person(rng, names.pop(), used) for _ in range(2)]
                paragraphs.append(_paragraph(people, [_squad_id(rng) for _ in range(8)], " "))
            articles.append({"title": f"Neighbours_{split}_{a}", "paragraphs": paragraphs})
        _write_json(out / "squad" / f"{split}-v1.1.json", {"data": articles, "version": "1.1"})


def make_xquad(out: Path) -> None:
    """XQuAD: the same 2 paragraphs x 3 questions in 12 languages, ids shared across languages."""
    rng = random.Random(101)
    people = [(i, rng.randrange(1950, 2006)) for i in rng.sample(range(5), 2)]
    ids = [[_squad_id(rng) for _ in range(3)] for _ in people]
    for lang in XQUAD_LANGS:
        paragraphs = [_paragraph([_person(lang, i, y)], qids, SEP.get(lang, " "))
                      for (i, y), qids in zip(people, ids, strict=True)]
        _write_json(out / "xquad" / f"xquad.{lang}.json",
                    {"data": [{"title": "Tiny_people", "paragraphs": paragraphs}], "version": "1.1"})


def make_tydiqa(out: Path) -> None:
    """TyDiQA-GoldP: one question per article as in GoldP; English-only train, 9-language dev."""
    rng = random.Random(202)
    dev = []
    for lang in TYDIQA_LANGS:
        for i in rng.sample(range(5), 2):
            sents, questions = _person(lang, i, rng.randrange(1950, 2006))
            for q in questions:
                para = _paragraph([(sents, [q])], [_tydiqa_id(rng, lang)], SEP.get(lang, " "))
                dev.append({"paragraphs": [para], "title": FACTS[lang]["names"][i]})
    train = []
    for k in range(64):
        n = EN_NAMES[k % len(EN_NAMES)]
        sents, questions = _en_person(rng, n, set())
        para = _paragraph([(sents, [questions[k % 4]])], [_tydiqa_id(rng, "en")], " ")
        train.append({"paragraphs": [para], "title": n})
    _write_json(out / "tydiqa" / "tydiqa-goldp-v1.1-train.json", {"data": train, "version": "v1.1"})
    _write_json(out / "tydiqa" / "tydiqa-goldp-v1.1-dev.json", {"data": dev, "version": "v1.1"})


# ---------------------------------------------------------------------------------------------
# NLI (MNLI, XNLI)
# ---------------------------------------------------------------------------------------------

def _mnli_rows(rng: random.Random, n_premises: int, start_index: int, dev: bool) -> list[dict]:
    """English premises of two facts, each with one entailed, neutral and contradicted hypothesis."""
    rows = []
    for _ in range(n_premises):
        n = rng.choice(EN_NAMES)
        c, c2 = rng.sample(EN_CITIES, 2)
        j, j2 = rng.sample(EN_JOBS, 2)
        pet = rng.choice(EN_PETS)
        premise = rng.choice([f"{n} lives in {c} and works as a {j}.",
                              f"{n}, a {j} from {c}, has a dog called {pet}."])
        hyps = {
            # quotes are literal text in GLUE files; they exercise csv.QUOTE_NONE in the reader
            "entailment": rng.choice([f"{n} lives in {c}.", f'{n} says: "I am a {j}."',
                                      f"{n} has a job."]),
            "neutral": rng.choice([f"{n} was born in {rng.randrange(1950, 2006)}.",
                                   f"{n} likes to eat {rng.choice(EN_FOODS)}.",
                                   f"{n} has two sisters."]),
            "contradiction": rng.choice([f"{n} lives in {c2}.", f'{n} says: "I am a {j2}."',
                                         f"{n} has never been to {c}."]),
        }
        prompt_id = rng.randrange(10000, 99999)
        genre = rng.choice(MNLI_GENRES)
        for label in NLI_CYCLE:
            s2 = hyps[label]
            row = {"index": start_index + len(rows), "promptID": prompt_id,
                   "pairID": f"{prompt_id}{label[0]}", "genre": genre,
                   "sentence1_binary_parse": _binary_parse(premise),
                   "sentence2_binary_parse": _binary_parse(s2),
                   "sentence1_parse": _parse(premise), "sentence2_parse": _parse(s2),
                   "sentence1": premise, "sentence2": s2, "label1": label, "gold_label": label}
            if dev:  # five annotators; the gold label is the majority
                others = [lab for lab in NLI_CYCLE if lab != label]
                votes = [label, label, label, rng.choice([label] + others), rng.choice([label] + others)]
                row.update({f"label{k + 1}": v for k, v in enumerate(votes)})
            rows.append(row)
    return rows


def make_mnli(out: Path) -> None:
    """GLUE MNLI: train.tsv (63 rows) and dev_matched.tsv (15 rows) with GLUE's columns."""
    rng = random.Random(404)
    base = ["index", "promptID", "pairID", "genre", "sentence1_binary_parse",
            "sentence2_binary_parse", "sentence1_parse", "sentence2_parse", "sentence1", "sentence2"]
    train = _mnli_rows(rng, 21, 0, dev=False)
    dev = _mnli_rows(rng, 5, len(train), dev=True)
    _write_tsv(out / "mnli" / "train.tsv", base + ["label1", "gold_label"], train)
    _write_tsv(out / "mnli" / "dev_matched.tsv",
               base + [f"label{k}" for k in range(1, 6)] + ["gold_label"], dev)


def make_xnli(out: Path) -> None:
    """XNLI-1.0: xnli.{dev,test}.tsv, 6 parallel rows per language for 15 languages."""
    header = ["language", "gold_label", "sentence1_binary_parse", "sentence2_binary_parse",
              "sentence1_parse", "sentence2_parse", "sentence1", "sentence2", "promptID",
              "pairID", "genre", "sentence1_tokenized", "sentence2_tokenized", "match"]
    for split, seed, first_pair in (("dev", 505, 1), ("test", 606, 5011)):
        rng = random.Random(seed)
        # one draw per row, rendered in every language: XNLI rows are translations of each other
        draws = []
        for k in range(6):
            i, i2 = rng.sample(range(5), 2)
            draws.append(dict(i=i, other=i2, year=rng.randrange(1950, 2006), label=NLI_CYCLE[k % 3],
                              on_job=k >= 3, genre=rng.choice(XNLI_GENRES)))
        rows = []
        for lang in XNLI_LANGS:
            L, sep = FACTS[lang], SEP.get(lang, " ")
            for k, d in enumerate(draws):
                n, c, j = L["names"][d["i"]], L["cities"][d["i"]], L["jobs"][d["i"]]
                c2, j2 = L["cities"][d["other"]], L["jobs"][d["other"]]
                premise = L["live"].format(n=n, c=c) + sep + L["job"].format(n=n, j=j)
                if d["label"] == "neutral":
                    hyp = L["born"].format(n=n, y=d["year"])
                elif d["on_job"]:
                    hyp = L["job"].format(n=n, j=j if d["label"] == "entailment" else j2)
                else:
                    hyp = L["live"].format(n=n, c=c if d["label"] == "entailment" else c2)
                rows.append({"language": lang, "gold_label": d["label"],
                             "sentence1_binary_parse": _binary_parse(premise),
                             "sentence2_binary_parse": _binary_parse(hyp),
                             "sentence1_parse": _parse(premise), "sentence2_parse": _parse(hyp),
                             "sentence1": premise, "sentence2": hyp,
                             "promptID": first_pair + k // 3, "pairID": first_pair + k,
                             "genre": d["genre"], "sentence1_tokenized": " ".join(_tokens(premise)),
                             "sentence2_tokenized": " ".join(_tokens(hyp)), "match": "True"})
        _write_tsv(out / "xnli" / f"xnli.{split}.tsv", header, rows)


# ---------------------------------------------------------------------------------------------
# Multiple choice (SocialIQA, COPA, XCOPA)
# ---------------------------------------------------------------------------------------------

def make_siqa(out: Path) -> None:
    """SocialIQA original release: {split}.jsonl + {split}-labels.lst with labels 1..3."""
    rng = random.Random(707)
    for split, count in (("train", 48), ("dev", 12)):
        rows, labels = [], []
        positions = [k % 3 for k in range(count)]  # balanced labels, in random order
        rng.shuffle(positions)
        for k, pos in enumerate(positions):
            context, question, right, wrong = SIQA_ITEMS[k % len(SIQA_ITEMS)]
            a, b = rng.sample(EN_NAMES, 2)
            answers = rng.sample(wrong, 2)
            answers.insert(pos, right)
            rows.append({"context": context.format(a=a, b=b), "question": question.format(a=a, b=b),
                         "answerA": answers[0], "answerB": answers[1], "answerC": answers[2]})
            labels.append(str(answers.index(right) + 1))
        _write_jsonl(out / "siqa" / f"{split}.jsonl", rows)
        _write(out / "siqa" / f"{split}-labels.lst", "\n".join(labels) + "\n")


def _copa_row(sents: dict, item: tuple, name: str, idx: int, label: int) -> dict:
    """One COPA row for ``item``; ``label`` is the position (0 or 1) of the right choice."""
    premise, question, right, wrong = (sents[k].format(n=name) if k in sents else k for k in item)
    choices = [wrong, right] if label else [right, wrong]
    return {"premise": premise, "choice1": choices[0], "choice2": choices[1],
            "question": question, "label": label, "idx": idx}


def make_copa(out: Path) -> None:
    """SuperGLUE COPA: train (40), val (10), test (10, unlabelled as in SuperGLUE)."""
    rng = random.Random(808)
    sents = {**{k: v for k, v in COPA["en"].items() if k != "names"}, **EN_COPA_EXTRA}
    pairs = [(item, name) for item in EN_COPA_ITEMS for name in EN_NAMES]
    rng.shuffle(pairs)
    start = 0
    for split, count in (("train", 40), ("val", 10), ("test", 10)):
        rows = [_copa_row(sents, item, name, idx, rng.randrange(2))
                for idx, (item, name) in enumerate(pairs[start:start + count])]
        start += count
        if split == "test":
            for r in rows:
                del r["label"]
        _write_jsonl(out / "copa" / f"{split}.jsonl", rows)


XCOPA_SEEDS = {"val": 909, "test": 910}


def _xcopa_draws(split: str) -> list[tuple]:
    """The split's items as (item, person, label), shared by every language and the translations."""
    rng = random.Random(XCOPA_SEEDS[split])
    draws = [(item, rng.randrange(6), rng.randrange(2)) for item in COPA_ITEMS]
    rng.shuffle(draws)
    return draws


def make_xcopa(out: Path) -> None:
    """XCOPA: {val,test}.{lang}.jsonl, 6 parallel items per split and language."""
    for split in XCOPA_SEEDS:
        draws = _xcopa_draws(split)
        for lang in XCOPA_LANGS:
            L = COPA[lang]
            rows = []
            for idx, (item, who, label) in enumerate(draws):
                row = _copa_row(L, item, L["names"][who], idx, label)
                row["changed"] = False
                rows.append(row)
            _write_jsonl(out / "xcopa" / f"{split}.{lang}.jsonl", rows)


def make_xcopa_translate_test(out: Path) -> None:
    """XCOPA translate-test: the test items in English (person names kept, as MT keeps them),
    test.{lang}.jsonl for every language but qu, which the real release lacks too."""
    sents = {k: v for k, v in COPA["en"].items() if k != "names"}
    for lang in XCOPA_LANGS:
        if lang == "qu":
            continue
        rows = []
        for idx, (item, who, label) in enumerate(_xcopa_draws("test")):
            row = _copa_row(sents, item, COPA[lang]["names"][who], idx, label)
            row["changed"] = False
            rows.append(row)
        _write_jsonl(out / "xcopa-translate-test" / f"test.{lang}.jsonl", rows)


def main(argv: list[str]) -> None:
    """Write every tiny dataset under OUT_DIR (default: the package's presets/tiny_data)."""
    out = Path(argv[0]) if argv else OUT
    for make in (make_squad, make_xquad, make_tydiqa, make_mnli, make_xnli, make_siqa,
                 make_copa, make_xcopa, make_xcopa_translate_test):
        make(out)
    total = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    print(f"wrote {sum(1 for f in out.rglob('*') if f.is_file())} files, {total / 1024:.0f} KiB, to {out}")


if __name__ == "__main__":
    main(sys.argv[1:])
