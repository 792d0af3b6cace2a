"""Decodes the files storage-bench wrote with plain h5py + hdf5plugin: checks every frame against the source
frames (lossless) and times random access (a frame decoded from scratch, following /video/reference) and
sequential reading (the previous image cached).

Usage: python3 bench/storage_bench_decode.py FRAMES.bgrx WIDTH HEIGHT FILE.h5...
"""
import random, sys, time
import h5py, hdf5plugin, numpy as np  # noqa: F401 (hdf5plugin registers the filters)


def image(frames, refs, i, cache=None):
    chain = []
    while True:
        if cache is not None and i in cache:
            img = cache[i]
            break
        chain.append(i)
        if refs[i] < 0:
            img = None
            break
        i = int(refs[i])
    for j in reversed(chain):
        data = frames[j]
        img = data if img is None else np.bitwise_xor(img, data)
    return img


def main():
    source, w, h = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    raw = np.fromfile(source, dtype=np.uint8).reshape(-1, h, w, 4)
    expected = raw[..., 2::-1]
    print("file                                   frames  lossless  random_mean_ms  random_worst_ms  sequential_ms/frame")
    for path in sys.argv[4:]:
        with h5py.File(path, "r") as f:
            frames, refs = f["video/frames"], f["video/reference"][:]
            n = frames.shape[0]
            cache, t0 = {}, time.perf_counter()
            lossless = True
            for i in range(n):
                img = image(frames, refs, i, cache)
                cache = {i: img}
                lossless &= bool(np.array_equal(img, expected[i % len(expected)]))
            sequential = (time.perf_counter() - t0) / n * 1e3
            random.seed(1)
            times = []
            for i in [n - 1] + random.sample(range(n), min(n, 20)):
                t = time.perf_counter()
                image(frames, refs, i)
                times.append((time.perf_counter() - t) * 1e3)
            print(f"{path.split('/')[-1]:38} {n:6} {str(lossless):9} {np.mean(times):14.1f} {max(times):16.1f} {sequential:20.1f}")


main()
