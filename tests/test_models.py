"""Students other than the teacher: a bare Hugging Face checkpoint (the paper's XLM-R case),
tested offline with a tiny randomly initialised BERT saved locally."""

import pytest
from transformers import BertConfig, BertModel

from mlkd_utils.models import build_student, has_normalize, load_sentence_model, without_normalize


@pytest.fixture
def tiny_hf_checkpoint(tmp_path, teacher):
    path = tmp_path / "tiny-bert"
    cfg = BertConfig(
        vocab_size=teacher.tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
    )
    BertModel(cfg).save_pretrained(path)
    teacher.tokenizer.save_pretrained(path)
    return path


def test_bare_checkpoint_gets_mean_pooling_and_a_projection_to_the_teacher(tiny_hf_checkpoint, teacher):
    plain = load_sentence_model(str(tiny_hf_checkpoint))
    assert plain.get_sentence_embedding_dimension() == 32
    assert plain[1].get_config_dict()["pooling_mode"] == "mean"
    student = build_student(str(tiny_hf_checkpoint), teacher, "normalized", max_seq_length=64)
    assert student.get_sentence_embedding_dimension() == teacher.get_sentence_embedding_dimension() == 384
    assert student.encode(["a test"]).shape == (1, 384)
    assert has_normalize(student)


def test_teacher_copy_is_independent_and_target_mode_controls_normalize(teacher):
    raw = build_student("teacher", teacher, "raw", max_seq_length=64)
    assert not has_normalize(raw) and has_normalize(teacher)
    first = next(raw.parameters())
    assert first.data_ptr() != next(teacher.parameters()).data_ptr()
    assert not has_normalize(without_normalize(teacher))


def test_raw_copy_keeps_the_default_prompt(tiny_hf_checkpoint):
    """multilingual-e5-small's "query: " prompt must survive the copy without Normalize that the
    embedding caches and the mining encode with; else those scores are of another model."""
    from sentence_transformers import SentenceTransformer

    model = load_sentence_model(str(tiny_hf_checkpoint))
    model = SentenceTransformer(modules=list(model), prompts={"query": "query: "}, default_prompt_name="query")
    raw = without_normalize(model)
    assert raw.prompts["query"] == "query: " and raw.default_prompt_name == "query"
    assert (raw.encode(["a test"]) == model.encode(["a test"])).all()  # the prompt applied by both
    assert not (raw.encode(["a test"]) == raw.encode(["a test"], prompt="")).all()  # and it matters


def test_an_encoder_that_is_not_sentence_transformers_passes_through():
    class Encoder:
        def encode(self, texts, **_):
            return texts

    enc = Encoder()
    assert without_normalize(enc) is enc
