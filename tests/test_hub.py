"""Hub sources of the core tasks: rows in each dataset's real Hub schema become normalized
examples; the Hub's failures become clear errors; the source table agrees with the task registry.
No network (tests/hub_fakes.py)."""

from __future__ import annotations

import pytest
from datasets import ClassLabel, Dataset, Features, Value

from adapterx.data import hub
from adapterx.errors import DataError, HubUnreachableError, UnknownChoiceError
from tests.hub_fakes import (assert_names_local_files, fail_with, nli_table, no_network,  # noqa: F401 (autouse)
                             qa_row, serve)


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


# --- errors -----------------------------------------------------------------------------------

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
