"""Writes the NumPy fixtures of dataset/numpy_test.go with numpy.save.

Run from this folder with Debian's Python and numpy:

    /usr/bin/python3 make.py

The files are deterministic: np.save writes no dates, and the .npz archive
is written entry by entry as numpy.savez does, with a fixed timestamp.
"""
import zipfile

import numpy as np


def save(name, arr):
    np.save(name + ".npy", arr, allow_pickle=True)


# Three sequences of 4 timesteps of 2 features, float64, C order: value
# 100*i + 10*t + f, so that every position is recognisable.
x = np.array([[[100 * i + 10 * t + f for f in range(2)] for t in range(4)] for i in range(3)], dtype=np.float64)
save("seq3d_f8", x)
# One sequence [T=3, F=2] stored in Fortran order (column-major), float32.
save("seq2d_f4_fortran", np.asfortranarray(np.array([[1.5, 2.5], [3.5, 4.5], [5.5, 6.5]], dtype=np.float32)))
# The 3-D array in Fortran order and big-endian.
save("seq3d_f8_fortran_big", np.asfortranarray(x.astype(">f8")))
# Labels of several integer types and booleans.
save("labels_i8", np.array([2, 0, 1], dtype=np.int64))
save("labels_u1", np.array([1, 0, 3], dtype=np.uint8))
save("labels_i4_big", np.array([0, 1, 2], dtype=">i4"))
save("labels_bool", np.array([True, False, True]))
save("labels_f8", np.array([1.0, 0.0, 2.0]))
save("labels_negative", np.array([1, -1, 0], dtype=np.int16))
# Responses [N, R] of float64.
save("responses_f8", np.array([[0.5, -1.0], [2.0, 0.25], [3.0, 4.0]]))
# Unsupported dtypes and shapes.
save("complex128", np.array([1 + 2j, 3 - 4j]))
save("strings", np.array(["walk", "run"]))
save("object", np.array([1, "a", None], dtype=object))
save("float16", np.array([1.0, 2.0], dtype=np.float16))
save("structured", np.array([(1, 2.0)], dtype=[("a", "<i4"), ("b", "<f8")]))
save("datetime", np.array(["2024-01-01"], dtype="datetime64[D]"))
save("scalar", np.float64(3.0))
save("empty", np.zeros((0, 3)))
save("int64_huge", np.array([1, 2**60], dtype=np.int64))

# An archive as numpy.savez_compressed writes it, but with a fixed date.
with zipfile.ZipFile("train.npz", "w", compression=zipfile.ZIP_DEFLATED) as z:
    for name, arr in [("x", x), ("y", np.array([2, 0, 1], dtype=np.int64)), ("names", np.array(["a", "b", "c"]))]:
        info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        with z.open(info, "w", force_zip64=True) as f:
            np.lib.format.write_array(f, np.asanyarray(arr), allow_pickle=False)
