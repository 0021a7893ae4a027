"""The one way the packaged ONNX models (YAMNet, the image classifier, the voice encoder) are opened on the CPU."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def cpu_session(path: Path, threads: int) -> Any:  # -> onnxruntime.InferenceSession
    """A CPU session on `threads` intra-op threads that do not spin while idle (so a step on one core does not burn
    the other). onnxruntime raises its own exception types: each caller turns them into its own setup error."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # don't burn idle cores
    return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
