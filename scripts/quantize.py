#!/usr/bin/python3
"""Store a TRM weight file in reduced precision.

    scripts/quantize.py IN.safetensors --dtype f16|int8 --out OUT.safetensors

f16:  every tensor as F16: half the download. Refused if a value overflows F16 (|x| > 65504).
int8: every 2-D matrix as I8 [rows, cols] plus `NAME.scale` F32 [rows], per row: scale = absmax / 127,
      q = round(w / scale) in [-127, 127] (an all-zero row has scale 1 and q = 0); 1-D tensors (H_init, L_init,
      q_head.bias) stay F32. About a quarter of the f32 size. With the SIMD kernels (the WASM builds) the engine
      runs the linear maps and token-mixing products of such a file on its integer kernels (int8 weights times
      activations quantised to int16, src/kernels.h); its Eigen path dequantises w = q * scale to float32.
The metadata is kept; `source` gains a note of the conversion.
"""
import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import trm_safetensors  # noqa: E402


def quantize_rows(w):
    """w [rows, cols] float32 -> (q int8 [rows, cols], scale float32 [rows]) with w ~= q * scale[:, None]."""
    w = np.asarray(w, dtype=np.float32)
    absmax = np.abs(w).max(axis=1)
    scale = np.where(absmax > 0, absmax / 127.0, 1.0).astype(np.float32)
    q = np.clip(np.rint(w / scale[:, None]), -127, 127).astype(np.int8)
    return q, scale


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("input")
    ap.add_argument("--dtype", required=True, choices=("f16", "int8"))
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    try:
        arrays, meta, dtypes = trm_safetensors.read(a.input)
    except (OSError, ValueError) as e:
        print(f"quantize: {a.input}: {e}", file=sys.stderr)
        return 1
    if meta.get("format") != "trm/1":
        print(f"quantize: {a.input}: metadata 'format' is {meta.get('format')!r}; expected 'trm/1'", file=sys.stderr)
        return 1
    if any(d == "I8" for d in dtypes.values()):
        print(f"quantize: {a.input}: already holds I8 tensors; quantize from a float file", file=sys.stderr)
        return 1
    out = {}
    for name, arr in arrays.items():
        arr = np.asarray(arr, dtype=np.float32)
        if a.dtype == "f16":
            if np.abs(arr).max(initial=0) > 65504:
                print(f"quantize: {a.input}: tensor '{name}' has values beyond the F16 range", file=sys.stderr)
                return 1
            out[name] = arr.astype(np.float16)
        elif arr.ndim == 2:
            out[name], out[name + ".scale"] = quantize_rows(arr)
        else:
            out[name] = arr
    meta = dict(meta)
    note = f"quantized to {a.dtype} by scripts/quantize.py from {os.path.basename(a.input)}"
    meta["source"] = f"{meta['source']}; {note}" if meta.get("source") else note
    trm_safetensors.write(a.out, out, metadata=meta)
    before, after = os.path.getsize(a.input), os.path.getsize(a.out)
    print(f"{a.out}: {after} bytes ({after / before:.1%} of {before})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
