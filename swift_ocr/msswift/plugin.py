"""Everything swift-ocr adds to ms-swift, registered in one idempotent call, and the plugin file's location.

ms-swift 4.6 imports each ``--custom_register_path`` / ``--external_plugins`` entry by *file* path
(``swift.utils.import_external_file``), so the entry point is the file ``swift_ocr/msswift/_plugin/swift_ocr_plugin.py``;
:func:`plugin_path` returns it, from a checkout or an installed package alike.
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List

_REGISTERED: Dict[str, List[str]] = {}


def plugin_path() -> str:
    """Absolute path of the plugin file to pass to ``swift ... --custom_register_path``."""
    return str(Path(__file__).resolve().parent / "_plugin" / "swift_ocr_plugin.py")


def register_all() -> Dict[str, List[str]]:
    """Register swift-ocr's datasets (:mod:`swift_ocr.msswift.datasets`), chat templates
    (:mod:`swift_ocr.msswift.templates`), evaluation metrics ``ocr`` / ``ocr_det`` (:mod:`swift_ocr.msswift.metrics`)
    and the trainer callback ``swift_ocr_seen`` (:mod:`swift_ocr.msswift.callbacks`) into ms-swift. Calling it again
    does nothing and returns the same names."""
    if "datasets" not in _REGISTERED:
        from swift_ocr.msswift.datasets import register_datasets
        _REGISTERED["datasets"] = register_datasets()
    if "templates" not in _REGISTERED:
        from swift_ocr.msswift.templates import register_templates
        _REGISTERED["templates"] = register_templates()
    if "metrics" not in _REGISTERED:
        from swift_ocr.msswift.metrics import register_metrics
        _REGISTERED["metrics"] = register_metrics()
    if "callbacks" not in _REGISTERED:
        from swift_ocr.msswift.callbacks import register_callbacks
        _REGISTERED["callbacks"] = register_callbacks()
    return dict(_REGISTERED)


def cpu_data_parallel() -> bool:
    """Make accelerate treat a several-process run on a machine without accelerator as one: under torchrun
    (``LOCAL_RANK`` set, ``WORLD_SIZE`` > 1) with no GPU/NPU/... visible to torch, build accelerate's
    ``PartialState(cpu=True)`` now (distributed type ``MULTI_CPU``, a gloo process group). Returns whether it did.

    Why: on such a machine a bare ``accelerate.PartialState()`` reports ``DistributedType.NO`` even under torchrun,
    and ms-swift 4.6 ``swift infer`` gathers the ranks' result rows with ``accelerate.utils.gather_object``, which
    then gathers nothing: with ``NPROC_PER_NODE=2`` on CPU only rank 0's half of the rows reached ``--result_path``.
    (Training is set up by transformers instead, which needs ``--use_cpu true``: recipes/common.sh adds it.) Called
    by the plugin file, so it runs in every rank of any ``swift ... --custom_register_path`` command, before
    ms-swift sets up its process group (which it then finds in place); ms-swift's own choice on CPU is gloo too. The
    process group is destroyed at exit (:func:`_destroy_process_group`)."""
    import os

    if int(os.environ.get("WORLD_SIZE", "1") or 1) <= 1 or "LOCAL_RANK" not in os.environ:
        return False
    try:  # what accelerate itself asks when it picks a backend (accelerate >= 1.x)
        from accelerate.utils.imports import get_torch_accelerator_backend
        accelerator = get_torch_accelerator_backend()[0]
    except ImportError:
        import torch
        accelerator = "cuda" if torch.cuda.is_available() else None
    if accelerator is not None:
        return False
    import atexit

    from accelerate import PartialState

    state = PartialState(cpu=True)
    atexit.register(_destroy_process_group)
    return state.num_processes > 1


def _destroy_process_group() -> None:
    """At exit: wait for the other ranks (gloo ``monitored_barrier``, at most 120 s), then tear down the gloo process
    group that :func:`cpu_data_parallel` set up (neither ms-swift 4.6 nor transformers does; PyTorch asks for it).
    Without the barrier, about one two-rank CPU run in eight had a rank aborted by the C++ runtime after the work was
    done ("terminate called without an active exception", SIGABRT: its peer had already closed the connections),
    and torchrun reported the whole run as failed; with it, none in the runs since (tests/e2e/test_scale_out.py)."""
    from datetime import timedelta

    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        try:  # leave together: a rank whose peers already closed their gloo connections may abort
            dist.monitored_barrier(timeout=timedelta(seconds=120))
        except Exception:  # a peer is gone (it failed): nothing to wait for
            pass
        dist.destroy_process_group()
