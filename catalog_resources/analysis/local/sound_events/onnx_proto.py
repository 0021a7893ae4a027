"""Reading small constants out of an ONNX file without the `onnx` package (not installed): a minimal protobuf
walker, enough to find the quantization scales and zero points YAMNet's w8a8 export stores as initializers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

_ONNX_DTYPES = {1: np.float32, 2: np.uint8, 3: np.int8, 4: np.uint16, 5: np.int16}


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return result, pos


def _pb_fields(buf: bytes) -> Iterator[tuple[int, Any]]:
    """Yield (field number, value) of one protobuf message; length-delimited values come back as bytes."""
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        value: Any
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 1:
            value, pos = buf[pos : pos + 8], pos + 8
        elif wire == 5:
            value, pos = buf[pos : pos + 4], pos + 4
        elif wire == 2:
            size, pos = _varint(buf, pos)
            value, pos = buf[pos : pos + size], pos + size
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        yield number, value


def small_initializers(onnx_path: Path, names: set[str]) -> dict[str, float]:
    """Scalar initializers stored inline (raw_data) in the graph: ModelProto.graph(7).initializer(5)."""
    found: dict[str, float] = {}
    for number, graph in _pb_fields(onnx_path.read_bytes()):
        if number != 7:
            continue
        for gnum, tensor in _pb_fields(graph):
            if gnum != 5:
                continue
            name, dtype, raw = "", 0, b""
            for tnum, value in _pb_fields(tensor):
                if tnum == 8:
                    name = value.decode()
                elif tnum == 2:
                    dtype = value
                elif tnum == 9:
                    raw = value
            if name in names and raw and dtype in _ONNX_DTYPES:
                found[name] = float(np.frombuffer(raw, dtype=_ONNX_DTYPES[dtype])[0])
    return found
