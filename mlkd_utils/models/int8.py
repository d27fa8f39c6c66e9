"""Carry a sentence-transformers model where few bytes travel (the GPU machine takes 64 MiB): every
2-D weight as int8 with one fp16 scale per row, everything else as fp16, in one safetensors file
beside the folder's small files. Unpacked, the model is fp32 again and its embeddings agree with the
original's to a cosine of about 0.999 (a test checks it on the teacher): good enough for targets,
and stated wherever a packed teacher is used.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import torch

WEIGHTS = "model.safetensors"
PACKED = "model.int8.safetensors"
MANIFEST = "int8.json"


def _weights_file(folder: Path) -> Path:
    """The transformer's weights inside a sentence-transformers folder (root or a module folder)."""
    found = sorted(folder.rglob(WEIGHTS))
    if len(found) != 1:
        raise FileNotFoundError(f"{folder}: expected one {WEIGHTS}, found {[str(p) for p in found]}")
    return found[0]


def pack(src: str | Path, dst: str | Path) -> Path:
    """Copy the folder ``src`` to ``dst`` with its weights packed (int8 rows + fp16 scales)."""
    from safetensors.torch import load_file, save_file

    src, dst = Path(src), Path(dst)
    weights = _weights_file(src)
    rel = weights.relative_to(src)
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns(WEIGHTS, "*.bin", "onnx", "openvino", "*.onnx"))
    out: dict[str, torch.Tensor] = {}
    for name, t in load_file(str(weights)).items():
        t = t.float()
        if t.ndim == 2:
            scale = t.abs().amax(dim=1, keepdim=True).clamp_min(1e-12) / 127.0
            out[f"{name}.q"] = torch.round(t / scale).to(torch.int8)
            out[f"{name}.scale"] = scale.half()
        else:
            out[name] = t.half()
    save_file(out, str(dst / rel.with_name(PACKED)))
    (dst / MANIFEST).write_text(json.dumps({"weights": str(rel)}) + "\n")
    return dst


def unpack(folder: str | Path) -> Path:
    """Turn a packed folder back into a loadable one (fp32 weights), in place; idempotent."""
    from safetensors.torch import load_file, save_file

    folder = Path(folder)
    rel = Path(json.loads((folder / MANIFEST).read_text())["weights"])
    if (folder / rel).is_file():
        return folder
    packed = load_file(str(folder / rel.with_name(PACKED)))
    state = {}
    for name, t in packed.items():
        if name.endswith(".q"):
            base = name[: -len(".q")]
            state[base] = t.float() * packed[f"{base}.scale"].float()
        elif not name.endswith(".scale"):
            state[name] = t.float()
    tmp = folder / rel.with_suffix(".tmp")
    save_file(state, str(tmp), metadata={"format": "pt"})
    tmp.replace(folder / rel)
    return folder
