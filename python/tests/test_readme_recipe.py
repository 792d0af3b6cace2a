"""The raw h5py recipe in docs/READER.md decodes the same frames as the package."""

import os
import re

import numpy as np

import recorder_reader as rr
from make_session import START_NS, write_panning_session, write_session

READER_MD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "READER.md")


def test_raw_h5py_recipe(tmp_path, monkeypatch):
    with open(READER_MD, encoding="utf-8") as f:
        text = f.read()
    recipe = re.search(r"## Raw h5py, without the package\n\n```python\n(.*?)```", text, re.S).group(1)
    assert len(recipe.strip().splitlines()) <= 12
    path = str(tmp_path / "session.h5")
    images = write_session(path, count=17, codec="lz4", keyframe_interval=6,
                           events=[(START_NS + k * 7_000_000, 0, 1, 30, 1, 0) for k in range(20)])
    monkeypatch.chdir(tmp_path)
    scope = {}
    exec(compile(recipe, "READER.md", "exec"), scope)
    for i in range(17):
        np.testing.assert_array_equal(scope["image"](i), images[i])
    with rr.open(path) as s:
        np.testing.assert_array_equal(scope["shown"], s.frame_index(s.events()["t_ns"]))
    scope["f"].close()


def test_raw_h5py_recipe_for_format_2(tmp_path, monkeypatch):
    with open(READER_MD, encoding="utf-8") as f:
        text = f.read()
    section = text[text.index("## Raw h5py, without the package"):]
    recipe, format_2 = re.findall(r"```python\n(.*?)```", section, re.S)[:2]
    path = str(tmp_path / "session.h5")
    shifts = [(0, 0), (3, 1), (7, 2), (7, 2), (-5, -4), (-9, 0)]
    images, motion = write_panning_session(path, shifts, "key")
    assert np.any(motion != 0)
    monkeypatch.chdir(tmp_path)
    scope = {}
    exec(compile(recipe, "READER.md", "exec"), scope)
    exec(compile(format_2, "READER.md", "exec"), scope)
    for i in range(len(shifts)):
        np.testing.assert_array_equal(scope["image"](i), images[i])
    scope["f"].close()
