"""A small safetensors reader and writer (numpy only), for TRM weight files.

Layout (the safetensors convention): an 8-byte little-endian header length N, N bytes of JSON (padded with spaces
to a multiple of 8), then the raw little-endian tensor data. The header maps each tensor name to
{"dtype", "shape", "data_offsets": [begin, end]} (offsets relative to the start of the data) and may hold a
"__metadata__" object of string values.

This writer sorts the header keys and lays the tensors out contiguously in that order. The reader validates the
whole header before reading any data, and returns BF16 tensors widened (exactly) to float32.
"""
import json
import struct

import numpy as np

# safetensors dtype name -> numpy dtype of the stored elements (BF16 is stored as its raw 16-bit pattern)
DTYPES = {
    "F64": np.dtype("<f8"), "F32": np.dtype("<f4"), "F16": np.dtype("<f2"), "BF16": np.dtype("<u2"),
    "I64": np.dtype("<i8"), "I32": np.dtype("<i4"), "I16": np.dtype("<i2"), "I8": np.dtype("i1"),
    "U8": np.dtype("u1"), "BOOL": np.dtype("?"),
}
NUMPY_TO_NAME = {np.dtype(np.float64): "F64", np.dtype(np.float32): "F32", np.dtype(np.float16): "F16",
                 np.dtype(np.int64): "I64", np.dtype(np.int32): "I32", np.dtype(np.int16): "I16",
                 np.dtype(np.int8): "I8", np.dtype(np.uint8): "U8", np.dtype(np.bool_): "BOOL"}
FLOAT_STORAGE = ("F32", "F16", "BF16")
MAX_HEADER = 100 * 1024 * 1024


class SafetensorsError(ValueError):
    pass


def float32_to_bf16_bits(a):
    """float32 array -> uint16 bf16 bit patterns, rounding to nearest even (NaN stays NaN)."""
    bits = np.ascontiguousarray(a, dtype="<f4").view("<u4")
    rounded = bits + np.uint32(0x7FFF) + ((bits >> np.uint32(16)) & np.uint32(1))
    out = (rounded >> np.uint32(16)).astype("<u2")
    nan = np.isnan(np.asarray(a, dtype=np.float32))
    out[nan] = 0x7FC0
    return out


def bf16_bits_to_float32(b):
    """uint16 bf16 bit patterns -> float32 (exact)."""
    return (np.asarray(b, dtype="<u2").astype("<u4") << np.uint32(16)).view("<f4")


def encode(array, dtype):
    """Return (dtype name, shape, bytes) of `array` stored as `dtype` (a safetensors dtype name)."""
    a = np.asarray(array)
    if dtype == "BF16":
        raw = float32_to_bf16_bits(a.astype(np.float32))
    elif dtype in DTYPES:
        raw = a.astype(DTYPES[dtype])
    else:
        raise SafetensorsError(f"unknown dtype {dtype!r}; expected one of {sorted(DTYPES)}")
    return dtype, list(a.shape), np.ascontiguousarray(raw).tobytes()


def write(path, tensors, metadata=None, float_dtype=None):
    """Write `tensors` (name -> numpy array) to `path`.

    Each array is stored in its own dtype, except that floating arrays are stored as `float_dtype`
    ("F32", "F16" or "BF16") when it is given. A value may also be a pre-encoded (dtype, shape, bytes) tuple.
    `metadata` is a dict of strings.
    """
    if float_dtype is not None and float_dtype not in FLOAT_STORAGE:
        raise SafetensorsError(f"float_dtype must be one of {FLOAT_STORAGE}, got {float_dtype!r}")
    encoded = {}
    for name in sorted(tensors):
        value = tensors[name]
        if isinstance(value, tuple):
            encoded[name] = value
            continue
        a = np.asarray(value)
        if a.dtype.kind == "f" and float_dtype is not None:
            dtype = float_dtype
        elif a.dtype in NUMPY_TO_NAME:
            dtype = NUMPY_TO_NAME[a.dtype]
        else:
            raise SafetensorsError(f"tensor {name!r}: unsupported numpy dtype {a.dtype}")
        encoded[name] = encode(a, dtype)

    header = {}
    offset = 0
    for name in sorted(encoded):
        dtype, shape, raw = encoded[name]
        header[name] = {"dtype": dtype, "shape": [int(s) for s in shape], "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
    if metadata:
        for k, v in metadata.items():
            if not isinstance(v, str):
                raise SafetensorsError(f"metadata {k!r} must be a string, got {type(v).__name__}")
        header["__metadata__"] = dict(metadata)
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for name in sorted(encoded):
            f.write(encoded[name][2])


def parse_header(buf, where="<buffer>"):
    """Validate a whole safetensors file held in `buf` (bytes); return (header dict, data start)."""
    if len(buf) < 8:
        raise SafetensorsError(f"{where}: file is shorter than the 8-byte header length")
    (n,) = struct.unpack("<Q", buf[:8])
    if n > MAX_HEADER or 8 + n > len(buf):
        raise SafetensorsError(f"{where}: header length {n} exceeds the file size {len(buf)}")
    try:
        header = json.loads(buf[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise SafetensorsError(f"{where}: header is not valid JSON ({e})")
    if not isinstance(header, dict):
        raise SafetensorsError(f"{where}: header must be a JSON object")
    data_len = len(buf) - 8 - n
    spans = []
    for name, info in header.items():
        if name == "__metadata__":
            if not isinstance(info, dict) or not all(isinstance(v, str) for v in info.values()):
                raise SafetensorsError(f"{where}: __metadata__ must map names to strings")
            continue
        if not isinstance(info, dict) or info.get("dtype") not in DTYPES:
            raise SafetensorsError(f"{where}: tensor {name!r}: dtype must be one of {sorted(DTYPES)}")
        shape, offs = info.get("shape"), info.get("data_offsets")
        if not isinstance(shape, list) or not all(isinstance(s, int) and s >= 0 for s in shape):
            raise SafetensorsError(f"{where}: tensor {name!r}: shape must be a list of non-negative ints")
        if not (isinstance(offs, list) and len(offs) == 2 and all(isinstance(o, int) for o in offs)
                and 0 <= offs[0] <= offs[1] <= data_len):
            raise SafetensorsError(f"{where}: tensor {name!r}: data_offsets {offs} outside the data (0..{data_len})")
        expected = int(np.prod(shape, dtype=np.int64)) * DTYPES[info["dtype"]].itemsize
        if offs[1] - offs[0] != expected:
            raise SafetensorsError(f"{where}: tensor {name!r}: {offs[1] - offs[0]} bytes, expected {expected} "
                                   f"for {info['dtype']} {shape}")
        spans.append((offs[0], offs[1], name))
    spans.sort()
    pos = 0
    for begin, end, name in spans:
        if begin != pos:
            raise SafetensorsError(f"{where}: tensor {name!r}: data starts at {begin}, expected {pos} (overlap or gap)")
        pos = end
    if pos != data_len:
        raise SafetensorsError(f"{where}: data is {data_len} bytes but tensors cover {pos}")
    return header, 8 + n


def read(path, widen_bf16=True):
    """Read `path`; return (tensors: name -> numpy array, metadata: dict, dtypes: name -> stored dtype name).

    BF16 tensors are returned as float32 when `widen_bf16` (else as their uint16 bit patterns).
    """
    with open(path, "rb") as f:
        buf = f.read()
    header, start = parse_header(buf, str(path))
    tensors, dtypes = {}, {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        a = np.frombuffer(buf, dtype=DTYPES[info["dtype"]], count=(e - b) // DTYPES[info["dtype"]].itemsize,
                          offset=start + b).reshape(info["shape"])
        if info["dtype"] == "BF16" and widen_bf16:
            a = bf16_bits_to_float32(a)
        tensors[name] = a
        dtypes[name] = info["dtype"]
    return tensors, dict(header.get("__metadata__", {})), dtypes
