"""NMS for MMPose/MMDetection when mmcv was installed without its compiled ops.

mmcv's C++/CUDA ops take about 9 minutes to compile on 2 cores and must be
rebuilt for every torch/CUDA pair; a prebuilt wheel rarely matches a GPU
machine's torch. The two ops that RTMPose, RTMO and RTMDet inference call
(``nms`` and ``batched_nms``) exist in :mod:`torchvision.ops` with the same
arithmetic (``offset=0`` IoU, indices in decreasing score order), so with
``mmcv-lite`` (``MMCV_WITH_OPS=0``) this module answers ``import mmcv.ops``:

* ``nms`` and ``batched_nms`` keep mmcv's signatures and return values;
* every other name (deformable convolutions, RoI ops, ...) is a stand-in that
  raises :class:`~hipdrive.errors.BackendUnavailableError` when used, so the
  model registries import but a model that needs a compiled op says so.

When mmcv's compiled ops import, nothing is replaced (:func:`ensure_mmcv_ops`).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types
from typing import Any

from hipdrive.errors import BackendUnavailableError

__all__ = ["batched_nms", "ensure_mmcv_ops", "nms"]

_PREFIX = "mmcv.ops"


def nms(boxes, scores, iou_threshold: float, offset: int = 0, score_threshold: float = 0,
        max_num: int = -1):  # fmt: skip
    """mmcv's ``nms``: ``(dets (k, 5), inds (k,))`` in decreasing score order."""
    import numpy as np
    import torch
    from torchvision.ops import nms as tv_nms

    if offset != 0:
        raise BackendUnavailableError(
            "mmcv.ops.nms with offset=1 needs mmcv's compiled ops (torchvision has offset 0 only)"
        )
    was_numpy = isinstance(boxes, np.ndarray)
    if was_numpy:
        boxes, scores = torch.from_numpy(boxes), torch.from_numpy(scores)
    valid = torch.arange(len(scores), device=scores.device)
    if score_threshold > 0:
        mask = scores > score_threshold
        boxes, scores, valid = boxes[mask], scores[mask], valid[mask]
    inds = tv_nms(boxes.float(), scores.float(), float(iou_threshold))
    if max_num > 0:
        inds = inds[:max_num]
    dets = torch.cat((boxes[inds], scores[inds].reshape(-1, 1)), dim=1)
    inds = valid[inds]
    if was_numpy:
        return dets.cpu().numpy(), inds.cpu().numpy()
    return dets, inds


def batched_nms(boxes, scores, idxs, nms_cfg: dict | None, class_agnostic: bool = False):
    """mmcv's ``batched_nms`` (per-class NMS by coordinate offsets), axis-aligned boxes."""
    import torch

    if nms_cfg is None:
        scores, inds = scores.sort(descending=True)
        return torch.cat([boxes[inds], scores[:, None]], -1), inds
    if boxes.numel() == 0:  # mmcv's own fails on boxes.max(); callers check first
        return boxes.new_zeros((0, boxes.size(-1) + 1)), idxs.new_zeros((0,), dtype=torch.long)
    cfg = dict(nms_cfg)
    class_agnostic = cfg.pop("class_agnostic", class_agnostic)
    if boxes.size(-1) != 4:
        raise BackendUnavailableError("rotated-box NMS needs mmcv's compiled ops")
    if class_agnostic:
        boxes_for_nms = boxes
    else:
        offsets = idxs.to(boxes) * (boxes.max() + torch.tensor(1).to(boxes))
        boxes_for_nms = boxes + offsets[:, None]
    op = cfg.pop("type", "nms")
    if op not in ("nms", nms):
        raise BackendUnavailableError(f"NMS type {op!r} needs mmcv's compiled ops")
    split_thr = cfg.pop("split_thr", 10000)
    if boxes_for_nms.shape[0] < split_thr:
        dets, keep = nms(boxes_for_nms, scores, **cfg)
        boxes, scores = boxes[keep], dets[:, -1]
    else:
        max_num = cfg.pop("max_num", -1)
        total_mask = scores.new_zeros(scores.size(), dtype=torch.bool)
        scores_after = scores.new_zeros(scores.size())
        for cls in torch.unique(idxs):
            mask = (idxs == cls).nonzero(as_tuple=False).view(-1)
            dets, keep = nms(boxes_for_nms[mask], scores[mask], **cfg)
            total_mask[mask[keep]] = True
            scores_after[mask[keep]] = dets[:, -1]
        keep = total_mask.nonzero(as_tuple=False).view(-1)
        scores, order = scores_after[keep].sort(descending=True)
        keep = keep[order]
        boxes = boxes[keep]
        if max_num > 0:
            keep, boxes, scores = keep[:max_num], boxes[:max_num], scores[:max_num]
    return torch.cat([boxes, scores[:, None]], -1), keep


def _missing(name: str) -> type:
    """A class standing for a compiled op: importable and subclassable, fails when used."""

    def fail(*_args: Any, **_kwargs: Any):
        raise BackendUnavailableError(
            f"mmcv.ops.{name} needs mmcv built with its compiled ops "
            "(`bash envs/install-pose-gpu.sh` builds them); this model cannot run on mmcv-lite"
        )

    return type(name, (), {"__init__": fail, "__call__": fail, "__module__": _PREFIX})


class _OpsModule(types.ModuleType):
    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        value = {"nms": nms, "batched_nms": batched_nms}.get(name) or _missing(name)
        setattr(self, name, value)
        return value


class _OpsFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves ``mmcv.ops`` and any ``mmcv.ops.<submodule>`` as :class:`_OpsModule`."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname == _PREFIX or fullname.startswith(_PREFIX + "."):
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec):
        module = _OpsModule(spec.name)
        module.__path__ = []
        return module

    def exec_module(self, module):
        return None


def ensure_mmcv_ops() -> str:
    """Make ``import mmcv.ops`` work; return ``"compiled"`` or ``"torchvision"``.

    mmcv's own ops are used whenever they import; the stand-in only when
    mmcv has no compiled extension (``mmcv._ext``).
    """
    if any(isinstance(f, _OpsFinder) for f in sys.meta_path):
        return "torchvision"
    try:
        importlib.import_module(_PREFIX)
        return "compiled"
    except ModuleNotFoundError as exc:
        if exc.name != "mmcv._ext":
            raise
    for name in [m for m in sys.modules if m == _PREFIX or m.startswith(_PREFIX + ".")]:
        del sys.modules[name]
    sys.meta_path.insert(0, _OpsFinder())
    return "torchvision"
