"""Frames decode byte-exact through the /video/reference rule, with a cache that reads each chunk once."""

import h5py
import hdf5plugin
import numpy as np
import pytest

import recorder_reader as rr
from make_session import references_for, write_panning_session, write_session

FILTER_IDS = {"zstd": 32015, "lz4": 32004, "none": None}


class CountingFrames:
    """Wraps /video/frames and records every index read from the file."""

    def __init__(self, dataset):
        self.dataset = dataset
        self.reads = []

    def __getitem__(self, key):
        self.reads.append(key)
        return self.dataset[key]

    def read_direct(self, dest, source_sel=None, dest_sel=None):
        self.reads.append(source_sel)
        return self.dataset.read_direct(dest, source_sel, dest_sel)

    @property
    def id(self):
        return CountingChunks(self.dataset.id, self.reads)

    def __getattr__(self, name):
        return getattr(self.dataset, name)


class CountingChunks:
    """Wraps a dataset's low-level id and records every chunk read straight from the file."""

    def __init__(self, dataset_id, reads):
        self.dataset_id = dataset_id
        self.reads = reads

    def read_direct_chunk(self, offsets, *args, **kwargs):
        self.reads.append(offsets[0])
        return self.dataset_id.read_direct_chunk(offsets, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.dataset_id, name)


def counted(session):
    session._frames = CountingFrames(session._frames)
    return session._frames


@pytest.mark.parametrize("codec", ["zstd", "lz4", "none"])
@pytest.mark.parametrize("keyframe_interval,mode", [(1, "chain"), (4, "chain"), (5, "key")])
def test_every_frame_decodes_byte_exact(tmp_path, codec, keyframe_interval, mode):
    path = str(tmp_path / "s.h5")
    images = write_session(path, count=23, codec=codec, keyframe_interval=keyframe_interval, reference_mode=mode)
    with h5py.File(path, "r") as f:
        dcpl = f["video/frames"].id.get_create_plist()
        filters = [dcpl.get_filter(k)[0] for k in range(dcpl.get_nfilters())]
        assert filters == ([FILTER_IDS[codec]] if FILTER_IDS[codec] else [])
        stored = f["video/frames"][:]
        np.testing.assert_array_equal(f["video/reference"][:], references_for(23, keyframe_interval, mode))
    if keyframe_interval > 1:
        residual = [i for i in range(23) if i % keyframe_interval]
        # The file really holds residuals: reading them raw would give wrong images.
        assert any(not np.array_equal(stored[i], images[i]) for i in residual)
    with rr.open(path) as session:
        assert len(session) == 23
        assert session.codec == codec
        for i in range(23):
            image = session.frame(i)
            assert image.dtype == np.uint8 and image.shape == (48, 64, 3)
            np.testing.assert_array_equal(image, images[i], err_msg="frame %d" % i)


@pytest.mark.parametrize("cache_size", [1, 3, 16])
def test_random_order_decodes_byte_exact(tmp_path, cache_size):
    path = str(tmp_path / "s.h5")
    images = write_session(path, count=30, keyframe_interval=7)
    order = np.random.default_rng(5).permutation(30).tolist() + list(range(29, -1, -1))
    with rr.Session(path, cache_size=cache_size) as session:
        for i in order:
            np.testing.assert_array_equal(session.frame(i), images[i], err_msg="frame %d" % i)
        assert session.cache_info()["cached_frames"] <= cache_size


def test_sequential_playback_reads_each_chunk_once(tmp_path):
    path = str(tmp_path / "s.h5")
    write_session(path, count=40, keyframe_interval=8, reference_mode="chain")
    with rr.open(path, cache_size=2) as session:
        frames = counted(session)
        for i, _ in session.iter_frames():
            before = len(frames.reads)
            session.frame(i)
            assert frames.reads[before:] == [], "frame %d read again right after" % i
        assert frames.reads == list(range(40))
        assert session.chunk_reads == 40


def test_random_access_reads_the_reference_chain_then_hits_the_cache(tmp_path):
    path = str(tmp_path / "s.h5")
    write_session(path, count=20, keyframe_interval=4, reference_mode="chain")
    with rr.open(path) as session:
        frames = counted(session)
        session.frame(7)
        assert frames.reads == [4, 5, 6, 7]
        session.frame(8)  # a whole frame
        assert frames.reads[4:] == [8]
        session.frame(6)
        session.frame(9)  # reference 8 is cached: one read
        assert frames.reads[5:] == [9]
    write_session(path, count=20, keyframe_interval=5, reference_mode="key")
    with rr.open(path) as session:
        frames = counted(session)
        session.frame(13)
        session.frame(12)
        assert frames.reads == [10, 13, 12]


def test_indexing_slicing_iteration(tmp_path):
    path = str(tmp_path / "s.h5")
    images = write_session(path, count=12, keyframe_interval=3)
    with rr.open(path) as session:
        np.testing.assert_array_equal(session[-1], images[11])
        np.testing.assert_array_equal(session.frame(-12), images[0])
        np.testing.assert_array_equal(session[2:7], np.stack(images[2:7]))
        np.testing.assert_array_equal(session[::-5], np.stack(images[::-5]))
        assert session[20:30].shape == (0, 48, 64, 3)
        assert sum(1 for _ in session) == 12
        for got, want in zip(session, images):
            np.testing.assert_array_equal(got, want)
        assert [i for i, _ in session.iter_frames(1, 9, 3)] == [1, 4, 7]
        with pytest.raises(ValueError):
            session.frame(3)[0, 0, 0] = 1  # shared with the cache, so read-only
        with pytest.raises(IndexError, match=r"frame index 12 out of range: the session has 12 frames \(valid: -12\.\.11\)"):
            session.frame(12)
        with pytest.raises(IndexError, match="frame index -13 out of range"):
            session[-13]
        with pytest.raises(TypeError, match="frame index must be an integer"):
            session.frame(1.5)


def test_empty_session(tmp_path):
    path = str(tmp_path / "s.h5")
    write_session(path, count=0)
    with rr.open(path) as session:
        assert len(session) == 0
        assert session.dropped_ticks == 0
        assert session.frame_index(10**12) == -1
        with pytest.raises(IndexError, match="no frames yet"):
            session.frame(0)
        assert session.summary()["video"]["frames"] == 0


def test_bad_reference_is_reported(tmp_path):
    path = str(tmp_path / "s.h5")
    write_session(path, count=6, keyframe_interval=3)
    with h5py.File(path, "r+") as f:
        f["video/reference"][4] = 4
    with rr.open(path) as session:
        session.frame(3)
        with pytest.raises(rr.FormatError, match=r"/video/reference\[4\] = 4"):
            session.frame(4)


def test_not_a_session(tmp_path):
    path = str(tmp_path / "other.h5")
    with h5py.File(path, "w") as f:
        f.attrs["format"] = "something-else"
    with pytest.raises(rr.FormatError, match="expected 'recorder-session'"):
        rr.open(path)
    with pytest.raises(FileNotFoundError):
        rr.open(str(tmp_path / "missing.h5"))


@pytest.mark.parametrize("mode", ["chain", "key"])
def test_format_2_shifted_references_decode_byte_exact(tmp_path, mode):
    path = str(tmp_path / "pan.h5")
    shifts = [(0, 0), (2, 1), (5, 1), (5, 1), (9, 3), (-4, -6), (-12, 0)]
    images, motion = write_panning_session(path, shifts, mode)
    assert np.count_nonzero(np.any(motion != 0, axis=1)) >= 5
    with rr.open(path) as session:
        np.testing.assert_array_equal(session.reference_shifts, motion)
        for i in reversed(range(len(images))):  # backwards: every chain is walked from a cold cache
            np.testing.assert_array_equal(session.frame(i), images[i], err_msg="frame %d" % i)
        shifted = session.summary()["video"]["shifted_frames"]
        assert shifted == np.count_nonzero(np.any(motion != 0, axis=1))


def test_format_2_without_reference_shift_is_refused(tmp_path):
    path = str(tmp_path / "s.h5")
    write_session(path, count=3)
    with h5py.File(path, "r+") as f:
        f.attrs["format_version"] = np.int64(2)
    with pytest.raises(rr.FormatError, match="reference_shift is missing"):
        rr.open(path)


def test_format_1_has_no_shifts(tmp_path):
    path = str(tmp_path / "s.h5")
    write_session(path, count=4, keyframe_interval=2)
    with rr.open(path) as session:
        assert session.reference_shifts.shape == (4, 2) and not session.reference_shifts.any()
        assert session.summary()["video"]["shifted_frames"] == 0


def test_chunk_reader_decodes_zstd_and_unfiltered_chunks_like_h5py_and_refuses_a_corrupt_one(tmp_path):
    """The direct path (stored bytes through libzstd into the caller's buffer) returns what h5py returns
    for zstd chunks and for a chunk written with the filter skipped (mask 1); a chunk that does not
    decompress is refused with the frame named (h5py + hdf5plugin return bytes for it without an error)."""
    from recorder_reader.chunks import ChunkError, ChunkReader

    path = str(tmp_path / "chunks.h5")
    rng = np.random.default_rng(5)
    images = rng.integers(0, 4, size=(4, 48, 64, 3), dtype=np.uint8)
    with h5py.File(path, "w") as f:
        frames = f.create_dataset("frames", data=images, chunks=(1, 48, 64, 3), **hdf5plugin.Zstd(clevel=1))
        frames.id.write_direct_chunk((2, 0, 0, 0), images[2].tobytes(), filter_mask=1)
        frames.id.write_direct_chunk((3, 0, 0, 0), b"\x28\xb5\x2f\xfd not a frame", filter_mask=0)
    with h5py.File(path, "r") as f:
        frames = f["frames"]
        reader = ChunkReader(frames)
        assert reader.lib is not None, "libzstd is loadable here: the direct path is what this test checks"
        buffer = np.empty((48, 64, 3), dtype=np.uint8)
        for i in range(3):
            assert reader._read_direct(frames, i, buffer), "frame %d took the direct path" % i
            np.testing.assert_array_equal(buffer, frames[i])
            np.testing.assert_array_equal(reader.read_into(frames, i, buffer), images[i])
        with pytest.raises(ChunkError, match="frame 3: its zstd chunk of 16 bytes does not decompress"):
            reader.read_into(frames, 3, buffer)

