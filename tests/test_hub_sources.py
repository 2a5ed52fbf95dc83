"""Hub sources added for the full task set (ANLI, SNLI, QQP, SST-2, SQuAD v2, HellaSwag, CosmosQA,
CommonsenseQA, PAWS-X, UD-POS, PAN-X, MLQA, Tatoeba): real Hub schemas, rows written here, no
network (tests/hub_fakes.py)."""

from __future__ import annotations

import pytest
from datasets import ClassLabel, Dataset, Sequence, Value

from adapterx.data import hub
from adapterx.errors import DataError, UnknownChoiceError
from tests.hub_fakes import (NLI, assert_names_local_files, fail_with, no_network,  # noqa: F401 (autouse)
                             qa_row, serve, table)


# --- sources added for the full task set (real Hub schemas, rows written here) ---------------

S = Value("string")
XTREME = "google/xtreme"


def anli_table(uid: str, label: int) -> Dataset:
    return table([{"uid": uid, "premise": f"premise {uid}", "hypothesis": f"hypothesis {uid}",
                   "label": label, "reason": ""}],
                 uid=S, premise=S, hypothesis=S, label=NLI, reason=S)


def test_anli_train_concatenates_the_three_rounds_in_order(monkeypatch):
    fake = serve(monkeypatch, {("facebook/anli", "plain_text", f"train_r{r}"):
                               anli_table(f"r{r}-0", r - 1) for r in (1, 2, 3)})
    got = hub.load_hub_split("anli", "train")
    assert [(ex["id"], ex["label"]) for ex in got] == [
        ("r1-0", "entailment"), ("r2-0", "neutral"), ("r3-0", "contradiction")]
    assert got[0] == {"id": "r1-0", "text_a": "premise r1-0", "text_b": "hypothesis r1-0",
                      "label": "entailment"}
    assert [c[2] for c in fake.calls] == ["train_r1", "train_r2", "train_r3"]


def test_anli_dev_reads_the_three_dev_rounds(monkeypatch):
    fake = serve(monkeypatch, {("facebook/anli", "plain_text", f"dev_r{r}"):
                               anli_table(f"d{r}", 0) for r in (1, 2, 3)})
    assert [ex["id"] for ex in hub.load_hub_split("anli", "dev")] == ["d1", "d2", "d3"]
    assert [c[2] for c in fake.calls] == ["dev_r1", "dev_r2", "dev_r3"]


def test_anli_checks_every_round_label_encoding(monkeypatch):
    bad = table([{"uid": "x", "premise": "p", "hypothesis": "h", "label": 0, "reason": ""}],
                uid=S, premise=S, hypothesis=S, reason=S,
                label=ClassLabel(names=["contradiction", "neutral", "entailment"]))
    tables = {("facebook/anli", "plain_text", f"test_r{r}"): anli_table(f"t{r}", 0)
              for r in (1, 2)}
    tables[("facebook/anli", "plain_text", "test_r3")] = bad
    serve(monkeypatch, tables)
    with pytest.raises(DataError, match="test_r3.*encodes labels"):
        hub.load_hub_split("anli", "test")


def test_snli_skips_pairs_without_a_gold_label(monkeypatch):
    rows = [{"premise": "A dog runs.", "hypothesis": "An animal moves.", "label": 0},
            {"premise": "A dog runs.", "hypothesis": "A cat sleeps.", "label": -1},
            {"premise": "A man eats.", "hypothesis": "Nobody eats.", "label": 2}]
    serve(monkeypatch, {("stanfordnlp/snli", "plain_text", "validation"):
                        table(rows, premise=S, hypothesis=S, label=NLI)})
    assert hub.load_hub_split("snli", "dev") == [
        {"id": "dev-0", "text_a": "A dog runs.", "text_b": "An animal moves.",
         "label": "entailment"},
        {"id": "dev-2", "text_a": "A man eats.", "text_b": "Nobody eats.",
         "label": "contradiction"}]


def test_qqp_label_names(monkeypatch):
    qqp = ClassLabel(names=["not_duplicate", "duplicate"])
    rows = [{"question1": "How do I learn Python?", "question2": "How can I learn Python?",
             "label": 1, "idx": 0},
            {"question1": "Why is the sky blue?", "question2": "What is a star?", "label": 0,
             "idx": 1}]
    serve(monkeypatch, {("nyu-mll/glue", "qqp", "train"):
                        table(rows, question1=S, question2=S, label=qqp, idx=Value("int32"))})
    assert hub.load_hub_split("qqp", "train") == [
        {"id": "0", "text_a": "How do I learn Python?", "text_b": "How can I learn Python?",
         "label": "duplicate"},
        {"id": "1", "text_a": "Why is the sky blue?", "text_b": "What is a star?",
         "label": "not_duplicate"}]


def test_sst2_has_no_second_text(monkeypatch):
    sst = ClassLabel(names=["negative", "positive"])
    rows = [{"sentence": "a gorgeous film ", "label": 1, "idx": 872},
            {"sentence": "dull and lifeless ", "label": 0, "idx": 873}]
    fake = serve(monkeypatch, {("nyu-mll/glue", "sst2", "validation"):
                               table(rows, sentence=S, label=sst, idx=Value("int32"))})
    assert hub.load_hub_split("sst2", "dev") == [
        {"id": "872", "text_a": "a gorgeous film ", "text_b": None, "label": "positive"},
        {"id": "873", "text_a": "dull and lifeless ", "text_b": None, "label": "negative"}]
    assert fake.calls[0][:3] == ("nyu-mll/glue", "sst2", "validation")


def test_squad_v2_unanswerable_question_has_empty_answers(monkeypatch):
    context = "The Normans were a people in Normandy."
    answerable = qa_row("56ddde6b9a695914005b9628", context, "Where were the Normans?",
                        "Normandy", title="Normans")
    unanswerable = {"id": "5ad39d53604f3c001a3fe8d1", "title": "Normans", "context": context,
                    "question": "Who gave their name to Normandy in the 1000s?",
                    "answers": {"text": [], "answer_start": []}}
    answers = {"text": [S], "answer_start": [Value("int32")]}
    fake = serve(monkeypatch, {("rajpurkar/squad_v2", "squad_v2", "validation"):
                               table([answerable, unanswerable], id=S, title=S, context=S,
                                     question=S, answers=answers)})
    got = hub.load_hub_split("squad_v2", "dev")
    assert got[0]["answers"] == {"text": ["Normandy"], "answer_start": [context.index("Normandy")]}
    assert got[1] == {"id": "5ad39d53604f3c001a3fe8d1", "title": "Normans", "context": context,
                      "question": "Who gave their name to Normandy in the 1000s?",
                      "answers": {"text": [], "answer_start": []}}
    assert fake.calls[0][:3] == ("rajpurkar/squad_v2", "squad_v2", "validation")


def hellaswag_row(ind: int, label: str) -> dict:
    return {"ind": ind, "activity_label": "Removing ice from car",
            "ctx_a": "Then, the man writes over the snow covering the window of a car.",
            "ctx_b": "then", "ctx": "Then, the man writes over the snow covering the window of "
                                    "a car. then",
            "endings": [", the man adds wax to the windshield.", ", a person board a ski lift.",
                        ", the man puts on a christmas coat.", ", the man continues removing "
                                                                 "the snow on his car."],
            "source_id": "activitynet~v_-1IBHYS3L-Y", "split": "train", "split_type": "indomain",
            "label": label}


def hellaswag_table(rows: list[dict]) -> Dataset:
    return table(rows, ind=Value("int32"), activity_label=S, ctx_a=S, ctx_b=S, ctx=S,
                 endings=[S], source_id=S, split=S, split_type=S, label=S)


def test_hellaswag_reads_the_parquet_export_revision(monkeypatch):
    fake = serve(monkeypatch, {("Rowan/hellaswag", None, "train"):
                               hellaswag_table([hellaswag_row(4, "3")])})
    got = hub.load_hub_split("hellaswag", "train")
    assert got == [{"id": "4", "context": hellaswag_row(4, "3")["ctx"], "question": "",
                    "choices": hellaswag_row(4, "3")["endings"], "label": 3}]
    assert fake.calls[0][3]["revision"] == "refs/convert/parquet"  # main still has a script


def test_hellaswag_unlabelled_and_bad_labels(monkeypatch):
    serve(monkeypatch, {("Rowan/hellaswag", None, "validation"):
                        hellaswag_table([hellaswag_row(0, "")]),
                        ("Rowan/hellaswag", None, "train"):
                        hellaswag_table([hellaswag_row(0, "4")])})
    assert hub.load_hub_split("hellaswag", "dev")[0]["label"] == -1
    with pytest.raises(DataError, match="malformed row 0.*0..3"):
        hub.load_hub_split("hellaswag", "train")


def test_cosmosqa_rows(monkeypatch):
    row = {"id": "3Q9SPIIRWJKVQ8244310E8TUS6YWAC##34V1S5K3GTZMDUBNBIGY93FLDM690G##A1S1K7134S2VUC"
                 "##Blog_1044056##q1_a1##3XU9MCX6VQQG7YPLCSAFDPQNH4GR20",
           "context": "Good Old War and person L : I saw both of these bands Wednesday night.",
           "question": "In the future , will this person go to see other bands play ?",
           "answer0": "None of the above choices .", "answer1": "This person likes music .",
           "answer2": "This person only likes Good Old War .", "answer3": "Other Bands is not "
                                                                         "on tour .",
           "label": 1}
    serve(monkeypatch, {("Samsoup/cosmos_qa", None, "validation"):
                        table([row], id=S, context=S, question=S, answer0=S, answer1=S,
                              answer2=S, answer3=S, label=Value("int32"))})
    assert hub.load_hub_split("cosmosqa", "dev") == [{
        "id": row["id"], "context": row["context"], "question": row["question"],
        "choices": [row[f"answer{i}"] for i in range(4)], "label": 1}]


def csqa_table(choice_labels: list[str], answer: str) -> Dataset:
    texts = {"A": "ignore", "B": "enforce", "C": "authoritarian", "D": "yell at", "E": "avoid"}
    row = {"id": "075e483d21c29a511267ef62bedc0461",
           "question": "The sanctions against the school were a punishing blow, and they seemed "
                       "to what the efforts the school had made to change?",
           "question_concept": "punishing",
           "choices": {"label": choice_labels, "text": [texts[k] for k in choice_labels]},
           "answerKey": answer}
    return table([row], id=S, question=S, question_concept=S,
                 choices=Sequence({"label": S, "text": S}), answerKey=S)


def test_commonsenseqa_orders_choices_a_to_e_and_has_no_context(monkeypatch):
    serve(monkeypatch, {("tau/commonsense_qa", None, "train"):
                        csqa_table(["C", "A", "B", "E", "D"], "A")})
    got = hub.load_hub_split("commonsenseqa", "train")
    assert got == [{"id": "075e483d21c29a511267ef62bedc0461", "context": "",
                    "question": "The sanctions against the school were a punishing blow, and "
                                "they seemed to what the efforts the school had made to change?",
                    "choices": ["ignore", "enforce", "authoritarian", "yell at", "avoid"],
                    "label": 0}]


def test_commonsenseqa_unlabelled_and_missing_choice(monkeypatch):
    serve(monkeypatch, {("tau/commonsense_qa", None, "validation"):
                        csqa_table(["A", "B", "C", "D", "E"], ""),
                        ("tau/commonsense_qa", None, "train"):
                        csqa_table(["A", "B", "C", "D"], "A")})
    assert hub.load_hub_split("commonsenseqa", "dev")[0]["label"] == -1
    with pytest.raises(DataError, match="A-E"):
        hub.load_hub_split("commonsenseqa", "train")


@pytest.mark.parametrize("task, split, lang, files", [
    ("ccg", "train", "en", ["ccg/train.txt", "ccg/dev.txt", "ccg/test.txt"]),
    ("bucc", "test", "de", ["bucc/de-en.test.de", "bucc/de-en.test.en", "bucc/de-en.test.gold",
                            "bucc/de-en.dev.gold"]),
])
def test_tasks_the_hub_cannot_serve_name_the_local_files(task, split, lang, files):
    # the autouse fixture fails any load_dataset call: these must refuse before going online
    with pytest.raises(DataError, match="cannot be read from the Hugging Face Hub") as info:
        hub.load_hub_split(task, split, lang)
    assert_names_local_files(info.value, *files)
    assert info.value.exit_code == 2


def test_bucc_error_says_what_the_hub_copy_lacks():
    with pytest.raises(DataError, match="only the gold sentence pairs"):
        hub.load_hub_languages("bucc", "dev", ["fr"])


def pawsx_table(rows: list[dict]) -> Dataset:
    return table(rows, id=Value("int32"), sentence1=S, sentence2=S,
                 label=ClassLabel(names=["0", "1"]))


def test_pawsx_per_language_config_and_label_names(monkeypatch):
    rows = [{"id": 1, "sentence1": "Die Stadt liegt am Fluss.", "sentence2": "Am Fluss liegt "
                                                                            "die Stadt.",
             "label": 1},
            {"id": 2, "sentence1": "Er kam 1990 nach Berlin.", "sentence2": "Er verließ Berlin "
                                                                            "1990.", "label": 0}]
    fake = serve(monkeypatch, {("google-research-datasets/paws-x", "de", "test"):
                               pawsx_table(rows)})
    assert hub.load_hub_split("pawsx", "test", "de") == [
        {"id": "1", "text_a": "Die Stadt liegt am Fluss.", "text_b": "Am Fluss liegt die Stadt.",
         "label": "1"},
        {"id": "2", "text_a": "Er kam 1990 nach Berlin.", "text_b": "Er verließ Berlin 1990.",
         "label": "0"}]
    assert fake.calls[0][:3] == ("google-research-datasets/paws-x", "de", "test")


def test_pawsx_trains_on_english_only():
    with pytest.raises(UnknownChoiceError, match="'de'"):
        hub.load_hub_split("pawsx", "train", "de")


UPOS = ClassLabel(names=["ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART",
                         "PRON", "PROPN", "PUNCT", "SCONJ", "SYM", "VERB", "X"])


def udpos_table(rows: list[dict]) -> Dataset:
    return table(rows, tokens=[S], pos_tags=[UPOS])


def test_udpos_config_by_language_name_and_tag_names(monkeypatch):
    rows = [{"tokens": ["Das", "Haus", "ist", "groß", "."], "pos_tags": [5, 7, 3, 0, 12]}]
    fake = serve(monkeypatch, {(XTREME, "udpos.German", "test"): udpos_table(rows)})
    assert hub.load_hub_split("udpos", "test", "de") == [
        {"id": "test-0", "tokens": ["Das", "Haus", "ist", "groß", "."],
         "tags": ["DET", "NOUN", "AUX", "ADJ", "PUNCT"]}]
    assert fake.calls[0][:3] == (XTREME, "udpos.German", "test")


def test_udpos_english_train(monkeypatch):
    rows = [{"tokens": ["I", "run"], "pos_tags": [10, 15]}, {"tokens": ["Go", "!"],
                                                             "pos_tags": [15, 12]}]
    serve(monkeypatch, {(XTREME, "udpos.English", "train"): udpos_table(rows)})
    got = hub.load_hub_split("udpos", "train", "en")
    assert [ex["tags"] for ex in got] == [["PRON", "VERB"], ["VERB", "PUNCT"]]
    assert [ex["id"] for ex in got] == ["train-0", "train-1"]


def test_udpos_language_missing_from_google_xtreme_names_local_files():
    with pytest.raises(DataError, match="no udpos config for language 'wo'") as info:
        hub.load_hub_split("udpos", "test", "wo")
    assert_names_local_files(info.value, "udpos/wo_*-ud-test.conllu")


def test_udpos_split_missing_for_a_language_is_a_data_error(monkeypatch):
    fail_with(monkeypatch, ValueError('Unknown split "validation". Should be one of [\'test\'].'))
    with pytest.raises(DataError, match="udpos.Thai.*no such split"):
        hub.load_hub_split("udpos", "dev", "th")


def test_udpos_tokens_and_tags_must_align(monkeypatch):
    serve(monkeypatch, {(XTREME, "udpos.French", "test"):
                        udpos_table([{"tokens": ["Le", "chat"], "pos_tags": [5]}])})
    with pytest.raises(DataError, match="2 tokens but 1 tags"):
        hub.load_hub_split("udpos", "test", "fr")


PANX = ClassLabel(names=["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"])


def test_panx_tags(monkeypatch):
    rows = [{"tokens": ["Angela", "Merkel", "besucht", "Paris", "."], "ner_tags": [1, 2, 0, 5, 0],
             "langs": ["de"] * 5}]
    fake = serve(monkeypatch, {(XTREME, "PAN-X.de", "validation"):
                               table(rows, tokens=[S], ner_tags=[PANX], langs=[S])})
    assert hub.load_hub_split("panx", "dev", "de") == [
        {"id": "dev-0", "tokens": ["Angela", "Merkel", "besucht", "Paris", "."],
         "tags": ["B-PER", "I-PER", "O", "B-LOC", "O"]}]
    assert fake.calls[0][:3] == (XTREME, "PAN-X.de", "validation")


def test_panx_changed_tag_encoding_is_an_error(monkeypatch):
    other = ClassLabel(names=["O", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "B-PER", "I-PER"])
    rows = [{"tokens": ["Paris"], "ner_tags": [1], "langs": ["fr"]}]
    serve(monkeypatch, {(XTREME, "PAN-X.fr", "test"):
                        table(rows, tokens=[S], ner_tags=[other], langs=[S])})
    with pytest.raises(DataError, match="encodes labels \\(column 'ner_tags'\\)"):
        hub.load_hub_split("panx", "test", "fr")


def test_mlqa_same_language_context_and_question(monkeypatch):
    context = "Die Universität wurde 1386 gegründet."
    row = qa_row("a1b2", context, "Wann wurde die Universität gegründet?", "1386",
                 title="Universität Heidelberg")
    answers = {"answer_start": [Value("int32")], "text": [S]}
    fake = serve(monkeypatch, {(XTREME, "MLQA.de.de", "test"):
                               table([row], id=S, title=S, context=S, question=S,
                                     answers=answers)})
    assert hub.load_hub_split("mlqa", "test", "de") == [
        {"id": "a1b2", "title": "Universität Heidelberg", "context": context,
         "question": "Wann wurde die Universität gegründet?",
         "answers": {"text": ["1386"], "answer_start": [context.index("1386")]}}]
    assert fake.calls[0][:3] == (XTREME, "MLQA.de.de", "test")


def test_tatoeba_pairs_from_the_iso_639_3_config(monkeypatch):
    rows = [{"source_sentence": "Ich habe Hunger.\n", "target_sentence": "I am hungry.\n",
             "source_lang": "deu", "target_lang": "eng"},
            {"source_sentence": "Wo ist der Bahnhof?\n", "target_sentence": "Where is the "
                                                                            "station?\n",
             "source_lang": "deu", "target_lang": "eng"}]
    fake = serve(monkeypatch, {(XTREME, "tatoeba.deu", "validation"):
                               table(rows, source_sentence=S, target_sentence=S, source_lang=S,
                                     target_lang=S)})
    assert hub.load_hub_split("tatoeba", "test", "de") == [
        {"id": "test-0", "source": "Ich habe Hunger.", "target": "I am hungry."},
        {"id": "test-1", "source": "Wo ist der Bahnhof?", "target": "Where is the station?"}]
    assert fake.calls[0][:3] == (XTREME, "tatoeba.deu", "validation")


def test_tatoeba_local_alternative_uses_the_three_letter_code():
    assert hub.local_alternative("tatoeba", "zh") == (
        "pass --data-dir DIR with DIR/tatoeba/tatoeba.cmn-eng.cmn, DIR/tatoeba/tatoeba.cmn-eng.eng")


def test_load_hub_languages_with_dataset_codes(monkeypatch):
    row = {"source_sentence": "x", "target_sentence": "y", "source_lang": "", "target_lang": "eng"}
    serve(monkeypatch, {(XTREME, f"tatoeba.{code}", "validation"):
                        table([row], source_sentence=S, target_sentence=S, source_lang=S,
                              target_lang=S) for code in ("fra", "spa")})
    got = hub.load_hub_languages("tatoeba", "test", ["fr", "es"])
    assert set(got) == {"fr", "es"} and all(len(v) == 1 for v in got.values())




# --- a task's Hub source is declared on the task itself -------------------------------------

def test_a_task_declares_its_hub_source_in_one_place(monkeypatch):
    """A task registered with `hub_source` loads from the Hub with nothing added to hub_sources."""
    from dataclasses import replace

    from adapterx.tasks import HubData, get_task
    from adapterx.tasks import base as task_base

    xnli = get_task("xnli")
    toy = replace(xnli, name="toy_nli", hub="toy_nli", languages=("en", "de"),
                  hub_source=HubData("someone/toy-nli", "nli_{lang}", {"test": "test"}, "nli",
                                     note="a test stand-in", label_names=xnli.labels))
    monkeypatch.setitem(task_base._REGISTRY, "toy_nli", toy)
    rows = [{"premise": "A man sleeps.", "hypothesis": "Nobody sleeps.", "label": 2}]
    fake = serve(monkeypatch, {("someone/toy-nli", "nli_de", "test"):
                               table(rows, premise=S, hypothesis=S, label=NLI)})
    got = hub.load_hub_split("toy_nli", "test", "de")
    assert [(ex["text_a"], ex["label"]) for ex in got] == [("A man sleeps.", "contradiction")]
    assert [c[:3] for c in fake.calls] == [("someone/toy-nli", "nli_de", "test")]
    with pytest.raises(UnknownChoiceError, match="language"):  # the task's languages are the source's
        hub.load_hub_split("toy_nli", "test", "fr")
