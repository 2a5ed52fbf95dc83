"""Hub sources: rows in each dataset's real Hub schema become normalized examples; no network."""

from __future__ import annotations

import datasets
import pytest
from datasets import ClassLabel, Dataset, Features, Sequence, Value

from adapterx.data import hub
from adapterx.errors import DataError, HubUnreachableError, UnknownChoiceError

NLI = ClassLabel(names=["entailment", "neutral", "contradiction"])


class FakeHub:
    """Stands in for `datasets.load_dataset`: serves prepared tables, records each call."""

    def __init__(self, tables: dict[tuple[str, str | None, str], Dataset] | None = None,
                 error: BaseException | None = None) -> None:
        self.tables, self.error, self.calls = tables or {}, error, []

    def __call__(self, path, name=None, split=None, **kwargs):
        self.calls.append((path, name, split, kwargs))
        if self.error is not None:
            raise self.error
        return self.tables[(path, name, split)]


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Any test that forgets to fake the Hub fails instead of going online."""
    monkeypatch.setattr(datasets, "load_dataset", FakeHub(error=AssertionError("network used")))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_DATASETS_OFFLINE", raising=False)


def serve(monkeypatch, tables) -> FakeHub:
    fake = FakeHub(tables)
    monkeypatch.setattr(datasets, "load_dataset", fake)
    return fake


def fail_with(monkeypatch, error: BaseException) -> FakeHub:
    fake = FakeHub(error=error)
    monkeypatch.setattr(datasets, "load_dataset", fake)
    return fake


def nli_table(rows: list[dict], with_idx: bool) -> Dataset:
    cols = {"premise": Value("string"), "hypothesis": Value("string"), "label": NLI}
    if with_idx:
        cols["idx"] = Value("int32")
    return Dataset.from_list(rows, features=Features(cols))


def qa_row(id_: str, context: str, question: str, answer: str, title: str | None = None) -> dict:
    row = {"id": id_, "context": context, "question": question,
           "answers": {"text": [answer], "answer_start": [context.index(answer)]}}
    if title is not None:
        row["title"] = title
    return row


# --- conversions ----------------------------------------------------------------------------

def test_mnli_train_and_dev_matched(monkeypatch):
    train = nli_table([{"premise": "A man sleeps.", "hypothesis": "A man rests.", "label": 0,
                        "idx": 0},
                       {"premise": "A cat sits.", "hypothesis": "A dog runs.", "label": 2,
                        "idx": 1}], with_idx=True)
    dev = nli_table([{"premise": "It rains.", "hypothesis": "It is wet.", "label": 1,
                      "idx": 7}], with_idx=True)
    fake = serve(monkeypatch, {("nyu-mll/glue", "mnli", "train"): train,
                               ("nyu-mll/glue", "mnli", "validation_matched"): dev})
    assert hub.load_hub_split("mnli", "train") == [
        {"id": "0", "text_a": "A man sleeps.", "text_b": "A man rests.", "label": "entailment"},
        {"id": "1", "text_a": "A cat sits.", "text_b": "A dog runs.", "label": "contradiction"}]
    assert hub.load_hub_split("mnli", "dev") == [
        {"id": "7", "text_a": "It rains.", "text_b": "It is wet.", "label": "neutral"}]
    assert [c[:3] for c in fake.calls] == [("nyu-mll/glue", "mnli", "train"),
                                           ("nyu-mll/glue", "mnli", "validation_matched")]


def test_xnli_per_language_config_and_row_ids(monkeypatch):
    table = nli_table([{"premise": "Er schläft.", "hypothesis": "Er ruht.", "label": 0},
                       {"premise": "Sie lacht.", "hypothesis": "Sie weint.", "label": 2}],
                      with_idx=False)
    serve(monkeypatch, {("facebook/xnli", "de", "test"): table})
    assert hub.load_hub_split("xnli", "test", "de") == [
        {"id": "test-0", "text_a": "Er schläft.", "text_b": "Er ruht.", "label": "entailment"},
        {"id": "test-1", "text_a": "Sie lacht.", "text_b": "Sie weint.", "label": "contradiction"}]


def test_unlabelled_nli_row_gets_empty_label(monkeypatch):
    table = nli_table([{"premise": "p", "hypothesis": "h", "label": -1, "idx": 3}], with_idx=True)
    serve(monkeypatch, {("nyu-mll/glue", "mnli", "train"): table})
    assert hub.load_hub_split("mnli", "train")[0]["label"] == ""


def test_changed_label_encoding_is_an_error(monkeypatch):
    cols = Features({"premise": Value("string"), "hypothesis": Value("string"),
                     "label": ClassLabel(names=["entailment", "contradiction", "neutral"]),
                     "idx": Value("int32")})
    table = Dataset.from_list([{"premise": "p", "hypothesis": "h", "label": 1, "idx": 0}],
                              features=cols)
    serve(monkeypatch, {("nyu-mll/glue", "mnli", "train"): table})
    with pytest.raises(DataError, match="encodes labels"):
        hub.load_hub_split("mnli", "train")


def test_siqa_string_labels_become_zero_based(monkeypatch):
    rows = [{"context": "Tracy didn't go home that evening.", "question": "What does Tracy need?",
             "answerA": "make a new plan", "answerB": "go home", "answerC": "find somewhere",
             "label": "1"},
            {"context": "Sydney walked past.", "question": "How would you describe Sydney?",
             "answerA": "sympathetic", "answerB": "like a person", "answerC": "in a hurry",
             "label": "3"}]
    serve(monkeypatch, {("lighteval/siqa", None, "validation"): Dataset.from_list(rows)})
    assert hub.load_hub_split("siqa", "dev") == [
        {"id": "dev-0", "context": "Tracy didn't go home that evening.",
         "question": "What does Tracy need?",
         "choices": ["make a new plan", "go home", "find somewhere"], "label": 0},
        {"id": "dev-1", "context": "Sydney walked past.",
         "question": "How would you describe Sydney?",
         "choices": ["sympathetic", "like a person", "in a hurry"], "label": 2}]


def test_copa_questions_and_unlabelled_test(monkeypatch):
    cols = Features({"premise": Value("string"), "choice1": Value("string"),
                     "choice2": Value("string"), "question": Value("string"),
                     "idx": Value("int32"), "label": ClassLabel(names=["choice1", "choice2"])})
    rows = [{"premise": "My body cast a shadow.", "choice1": "The sun was rising.",
             "choice2": "The grass was cut.", "question": "cause", "idx": 0, "label": -1},
            {"premise": "The woman tolerated her friend.", "choice1": "She liked her.",
             "choice2": "She left.", "question": "effect", "idx": 1, "label": -1}]
    serve(monkeypatch, {("aps/super_glue", "copa", "test"): Dataset.from_list(rows, features=cols)})
    got = hub.load_hub_split("copa", "test")
    assert got[0] == {"id": "0", "context": "My body cast a shadow.",
                      "question": "What was the cause?",
                      "choices": ["The sun was rising.", "The grass was cut."], "label": -1}
    assert got[1]["question"] == "What happened as a result?"


def test_xcopa_language_config(monkeypatch):
    cols = Features({"premise": Value("string"), "choice1": Value("string"),
                     "choice2": Value("string"), "question": Value("string"),
                     "label": Value("int32"), "idx": Value("int32"), "changed": Value("bool")})
    rows = [{"premise": "Mees keeras kraani lahti.", "choice1": "Tualett täitus veega.",
             "choice2": "Tilast voolas vett.", "question": "effect", "label": 1, "idx": 0,
             "changed": False}]
    fake = serve(monkeypatch, {("cambridgeltl/xcopa", "et", "test"):
                               Dataset.from_list(rows, features=cols)})
    assert hub.load_hub_split("xcopa", "test", "et") == [
        {"id": "0", "context": "Mees keeras kraani lahti.",
         "question": "What happened as a result?",
         "choices": ["Tualett täitus veega.", "Tilast voolas vett."], "label": 1}]
    assert fake.calls[0][:3] == ("cambridgeltl/xcopa", "et", "test")


def test_squad_rows(monkeypatch):
    context = "Architecturally, the school has a Catholic character."
    row = qa_row("5733be284776f41900661182", context, "What character does the school have?",
                 "Catholic", title="University_of_Notre_Dame")
    serve(monkeypatch, {("rajpurkar/squad", "plain_text", "train"): Dataset.from_list([row])})
    assert hub.load_hub_split("squad", "train") == [
        {"id": "5733be284776f41900661182", "title": "University_of_Notre_Dame",
         "context": context, "question": "What character does the school have?",
         "answers": {"text": ["Catholic"], "answer_start": [34]}}]


def test_xquad_test_is_the_validation_split_and_has_no_title(monkeypatch):
    context = "Echipa Panthers a cedat doar 308 puncte."
    row = qa_row("56beb4343aeaaa14008c925b", context, "Câte puncte?", "308")
    fake = serve(monkeypatch, {("google/xquad", "xquad.ro", "validation"):
                               Dataset.from_list([row])})
    got = hub.load_hub_split("xquad", "test", "ro")
    assert got == [{"id": "56beb4343aeaaa14008c925b", "title": "", "context": context,
                    "question": "Câte puncte?",
                    "answers": {"text": ["308"], "answer_start": [context.index("308")]}}]
    assert fake.calls[0][:3] == ("google/xquad", "xquad.ro", "validation")


def tydiqa_table(split: str) -> Dataset:
    rows = [qa_row(f"english-{split}-1-0", "Paris is the capital of France.",
                   "What is the capital of France?", "Paris", title="Paris"),
            qa_row(f"swahili-{split}-2-0", "Nairobi ni mji mkuu wa Kenya.",
                   "Mji mkuu wa Kenya ni upi?", "Nairobi", title="Nairobi"),
            qa_row(f"arabic-{split}-3-0", "القاهرة عاصمة مصر.", "ما هي عاصمة مصر؟", "القاهرة",
                   title="القاهرة")]
    return Dataset.from_list(rows)


def test_tydiqa_train_keeps_english_rows_only(monkeypatch):
    serve(monkeypatch, {("google-research-datasets/tydiqa", "secondary_task", "train"):
                        tydiqa_table("train")})
    got = hub.load_hub_split("tydiqa", "train", "en")
    assert [ex["id"] for ex in got] == ["english-train-1-0"]
    assert got[0]["answers"] == {"text": ["Paris"], "answer_start": [0]}
    with pytest.raises(UnknownChoiceError, match="'ar'"):
        hub.load_hub_split("tydiqa", "train", "ar")


def test_tydiqa_dev_by_language_from_id_prefix(monkeypatch):
    fake = serve(monkeypatch, {("google-research-datasets/tydiqa", "secondary_task",
                                "validation"): tydiqa_table("dev")})
    assert [ex["id"] for ex in hub.load_hub_split("tydiqa", "dev", "sw")] == ["swahili-dev-2-0"]
    by_lang = hub.load_hub_languages("tydiqa", "dev", ["ar", "en", "fi"])
    assert {k: [ex["id"] for ex in v] for k, v in by_lang.items()} == {
        "ar": ["arabic-dev-3-0"], "en": ["english-dev-1-0"], "fi": []}
    assert len(fake.calls) == 2  # the grouped read downloads once for all languages


def test_load_hub_languages_per_config(monkeypatch):
    rows = [{"premise": "p", "choice1": "a", "choice2": "b", "question": "cause", "label": 0,
             "idx": 0, "changed": False}]
    serve(monkeypatch, {("cambridgeltl/xcopa", lang, "validation"): Dataset.from_list(rows)
                        for lang in ("et", "qu")})
    got = hub.load_hub_languages("xcopa", "dev", ["et", "qu"])
    assert set(got) == {"et", "qu"} and all(len(v) == 1 for v in got.values())


def test_malformed_row_names_the_dataset(monkeypatch):
    rows = [{"context": "c", "question": "q", "answerA": "a", "answerB": "b", "label": "1"}]
    serve(monkeypatch, {("lighteval/siqa", None, "train"): Dataset.from_list(rows)})
    with pytest.raises(DataError, match="lighteval/siqa.*malformed row 0"):
        hub.load_hub_split("siqa", "train")


# --- sources added for the full task set (real Hub schemas, rows written here) ---------------

S = Value("string")
XTREME = "google/xtreme"


def table(rows: list[dict], **features) -> Dataset:
    return Dataset.from_list(rows, features=Features(features))


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


# --- errors -----------------------------------------------------------------------------------

def assert_names_local_files(err: BaseException, *files: str) -> None:
    text = str(err)
    assert "--data-dir" in text
    for f in files:
        assert f"DIR/{f}" in text, (f, text)


@pytest.mark.parametrize("error", [
    ConnectionError("Couldn't reach 'rajpurkar/squad' on the Hub (LocalEntryNotFoundError)"),
    pytest.param("requests", id="requests-ConnectionError"),
    pytest.param("httpx", id="httpx-ConnectError"),
    pytest.param("offline", id="OfflineModeIsEnabled"),
])
def test_connection_failures_become_hub_unreachable(monkeypatch, error):
    if error == "requests":
        import requests
        error = requests.exceptions.ConnectionError("Max retries exceeded with url")
    elif error == "httpx":
        import httpx
        error = httpx.ConnectError("[Errno -3] Temporary failure in name resolution")
    elif error == "offline":
        from huggingface_hub.errors import OfflineModeIsEnabled
        error = OfflineModeIsEnabled("Cannot reach https://huggingface.co: offline mode is enabled")
    fail_with(monkeypatch, error)
    with pytest.raises(HubUnreachableError) as info:
        hub.load_hub_split("squad", "train")
    assert "unreachable" in str(info.value) and "rajpurkar/squad" in str(info.value)
    assert_names_local_files(info.value, "squad/train-v1.1.json", "squad/dev-v1.1.json")
    assert info.value.exit_code == 2


def test_wrapped_connection_error_is_recognised_through_the_cause(monkeypatch):
    import requests
    try:
        try:
            raise requests.exceptions.ConnectTimeout("timed out")
        except requests.exceptions.ConnectTimeout as inner:
            raise RuntimeError("download failed") from inner
    except RuntimeError as outer:
        fail_with(monkeypatch, outer)
    with pytest.raises(HubUnreachableError):
        hub.load_hub_split("mnli", "dev")


def test_offline_env_is_named(monkeypatch):
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    fail_with(monkeypatch, FileNotFoundError("Couldn't find any data file at /x/google/xquad"))
    with pytest.raises(HubUnreachableError, match="HF_DATASETS_OFFLINE=1") as info:
        hub.load_hub_split("xquad", "test", "de")
    assert_names_local_files(info.value, "xquad/xquad.de.json")


def test_script_based_dataset_error_is_translated(monkeypatch):
    fail_with(monkeypatch, RuntimeError(
        "Dataset scripts are no longer supported, but found social_i_qa.py"))
    with pytest.raises(HubUnreachableError, match="script-based") as info:
        hub.load_hub_split("siqa", "train")
    assert_names_local_files(info.value, "siqa/train.jsonl", "siqa/train-labels.lst",
                             "siqa/dev.jsonl", "siqa/dev-labels.lst")


def test_local_alternative_fills_in_the_language():
    assert hub.local_alternative("xcopa", "qu") == (
        "pass --data-dir DIR with DIR/xcopa/val.qu.jsonl, DIR/xcopa/test.qu.jsonl")


def test_unrelated_errors_propagate(monkeypatch):
    fail_with(monkeypatch, RuntimeError("disk full"))
    with pytest.raises(RuntimeError, match="disk full"):
        hub.load_hub_split("squad", "dev")


@pytest.mark.parametrize("args, what", [
    (("hellaswagg", "train"), "Hub task"),
    (("squad", "test"), "split"),
    (("xnli", "train", "de"), "split"),
    (("xnli", "dev", "xx"), "language"),
    (("squad", "train", "de"), "language"),
])
def test_unknown_choices(args, what):
    with pytest.raises(UnknownChoiceError, match=what) as info:
        hub.load_hub_split(*args)
    assert "valid choices" in str(info.value)


# --- the table itself -------------------------------------------------------------------------

@pytest.mark.parametrize("task", sorted(hub.HUB_SOURCES))
def test_source_table_is_well_formed(task):
    source = hub.HUB_SOURCES[task]
    if not source.unavailable:
        assert source.dataset_id.count("/") == 1  # bare ids are refused by recent huggingface_hub
    assert set(source.splits) <= {"train", "dev", "test"}
    assert source.local_files and source.note
    multilingual = len(source.languages) > 1
    per_language = any(p in (source.config or "") for p in ("{lang}", "{code}"))
    assert multilingual == (per_language or source.lang_of is not None)
    if "{code}" in (source.config or ""):
        assert source.codes and set(source.codes) <= set(source.languages)


def test_sources_agree_with_the_task_registry():
    from adapterx.tasks import all_tasks

    # languages the Hub copy lacks (local files only): XTREME-R's additions to Tatoeba
    local_only = {"tatoeba": {"az", "lt", "pl", "ro", "uk"}}
    for task in all_tasks().values():
        if task.hub in hub.HUB_SOURCES:
            source = hub.HUB_SOURCES[task.hub]
            assert set(task.languages) - local_only.get(task.name, set()) == set(source.languages), task.name
            assert {task.resolve_split(s) for s in task.splits} <= set(source.splits), task.name
            if task.labels and source.label_names:
                assert tuple(task.labels) == source.label_names, task.name
