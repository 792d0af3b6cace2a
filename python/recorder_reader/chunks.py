"""Frame chunks read straight into a caller's buffer.

A zstd chunk of /video/frames read through h5py goes through HDF5's filter pipeline: decompressed into
a buffer of HDF5's own, then copied into the array. When the dataset's only filter is Zstandard (32015,
the recorder's default) and libzstd is at hand, :class:`ChunkReader` reads the stored bytes
(``read_direct_chunk``) and decompresses them into the caller's buffer in one pass; an unfiltered chunk
(filter mask bit 0, written when the compressors fell behind) is copied as it is. Without libzstd, with
another filter or another chunk shape, h5py reads the chunk. A stored chunk that does not decompress to
exactly one frame raises :class:`ChunkError` (h5py + hdf5plugin 5 hand back bytes without an error for a
corrupt zstd chunk).
"""

import ctypes
import functools
from typing import Any, Optional

import numpy as np

ZSTD_FILTER = 32015


@functools.lru_cache(maxsize=None)
def _libzstd() -> Optional[ctypes.CDLL]:
    """libzstd with its one-shot decompressor declared, or None; looked up once."""
    for name in ("libzstd.so.1", "libzstd.so"):
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        lib.ZSTD_decompress.restype = ctypes.c_size_t
        lib.ZSTD_decompress.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t]
        lib.ZSTD_isError.restype = ctypes.c_uint
        lib.ZSTD_isError.argtypes = [ctypes.c_size_t]
        lib.ZSTD_getErrorName.restype = ctypes.c_char_p
        lib.ZSTD_getErrorName.argtypes = [ctypes.c_size_t]
        return lib
    return None


class ChunkError(OSError):
    """A stored frame chunk that does not decode to one frame."""


class ChunkReader:
    """Reads frame ``i`` of a (N, H, W, 3) uint8 dataset chunked (1, H, W, 3) into an (H, W, 3) buffer."""

    def __init__(self, dataset: Any):
        plist = dataset.id.get_create_plist()
        filters = [plist.get_filter(k)[0] for k in range(plist.get_nfilters())]
        self.lib = _libzstd() if filters == [ZSTD_FILTER] and dataset.chunks == (1,) + dataset.shape[1:] else None

    def read_into(self, dataset: Any, i: int, buffer: np.ndarray) -> np.ndarray:
        """Frame ``i``'s stored bytes (a whole image or a residual) in ``buffer``; returns ``buffer``."""
        if self.lib is None or not self._read_direct(dataset, i, buffer):
            dataset.read_direct(buffer, np.s_[i])
        return buffer

    def _read_direct(self, dataset: Any, i: int, buffer: np.ndarray) -> bool:
        """True when the chunk was decoded into ``buffer``; False to let h5py read it (say, a chunk the
        index does not hold)."""
        try:
            mask, raw = dataset.id.read_direct_chunk((i, 0, 0, 0))
        except (OSError, ValueError, KeyError):
            return False
        if mask & 1:
            if len(raw) != buffer.nbytes:
                raise ChunkError("frame %d: unfiltered chunk of %d bytes, a frame is %d" % (i, len(raw), buffer.nbytes))
            buffer.reshape(-1)[:] = np.frombuffer(raw, dtype=np.uint8)
            return True
        size = self.lib.ZSTD_decompress(buffer.ctypes.data, buffer.nbytes, raw, len(raw))
        if self.lib.ZSTD_isError(size):
            reason = self.lib.ZSTD_getErrorName(size).decode("ascii", "replace")
            raise ChunkError("frame %d: its zstd chunk of %d bytes does not decompress (%s)" % (i, len(raw), reason))
        if size != buffer.nbytes:
            raise ChunkError("frame %d: its zstd chunk decompresses to %d bytes, a frame is %d" % (i, size, buffer.nbytes))
        return True
