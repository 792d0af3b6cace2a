"""Per-frame actions: the input of a session as arrays aligned with its frames, ready for a trainer."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Tuple

import numpy as np

from .evdev import EV_ABS, EV_KEY, EV_REL

REL_X, REL_Y, REL_HWHEEL, REL_WHEEL = 0x00, 0x01, 0x06, 0x08
#: Mouse buttons: BTN_LEFT (0x110) ... BTN_TASK (0x117).
MOUSE_BUTTONS = range(0x110, 0x118)
#: EV_KEY codes of other buttons (BTN_MISC 0x100 ... 0x15f and the 0x2c0+ trigger-happy range):
#: gamepad, joystick and tablet buttons, which are neither keyboard keys nor mouse buttons.
BUTTON_RANGES = ((0x100, 0x160), (0x2c0, 0x300))


def is_keyboard_key(code: int) -> bool:
    """True for EV_KEY codes that are keys (KEY_*), not BTN_* buttons."""
    return not any(lo <= code < hi for lo, hi in BUTTON_RANGES)


@dataclass
class Actions:
    """Input per stored frame i, over the interval [t_i, t_{i+1}) (the last frame: to the end).

    - ``keys`` (N, K) bool, columns ``key_codes``: keyboard keys held during the interval (down at
      its start or pressed within it), any device.
    - ``buttons`` (N, B) bool, columns ``button_codes``: mouse buttons BTN_LEFT..BTN_TASK held, same rule.
    - ``rel`` (N, 2) int64: summed REL_X, REL_Y; ``wheel`` (N, 2) int64: summed REL_WHEEL, REL_HWHEEL.
    - ``abs`` (N, A) float64, columns ``abs_axes`` [(device, code)]: each absolute axis at the end
      of the interval, normalised by /input/abs_info: centred axes (min < 0 < max, sticks) to
      [-1, 1], the others (triggers, pressure, positions) to [0, 1]; ``abs_centred`` says which.
    Events before the first frame only set the state the first frame starts from.
    """

    t_ns: np.ndarray
    key_codes: np.ndarray
    keys: np.ndarray
    button_codes: np.ndarray
    buttons: np.ndarray
    rel: np.ndarray
    wheel: np.ndarray
    abs_axes: List[Tuple[int, int]]
    abs_centred: np.ndarray
    abs: np.ndarray

    def __len__(self) -> int:
        return len(self.t_ns)


def normalise_axis(values: np.ndarray, minimum: int, maximum: int) -> Tuple[np.ndarray, bool]:
    """Values of one axis scaled by its range: to [-1, 1] when it is centred (min < 0 < max), else [0, 1]."""
    span = float(maximum - minimum) or 1.0
    unit = (np.asarray(values, dtype=np.float64) - minimum) / span
    centred = minimum < 0 < maximum
    return (np.clip(unit * 2.0 - 1.0, -1.0, 1.0) if centred else np.clip(unit, 0.0, 1.0)), centred


def _held(frames: np.ndarray, values: np.ndarray, down_at_open: bool, count: int) -> np.ndarray:
    """(count,) bool: down at the start of each frame or pressed during it, from one key's events
    in order (frame index per event, -1 before the first frame; value 0 up, 1 down, 2 repeat)."""
    held = np.zeros(count, dtype=bool)
    state = down_at_open
    start = 0
    for frame, value in zip(frames.tolist(), values.tolist()):
        if frame >= start and state:
            held[start:frame + 1] = True
        if frame >= 0 and value:
            held[frame] = True
        start = max(start, frame + 1)
        state = value != 0
    if state:
        held[start:] = True
    return held


def compute_actions(t_frames: np.ndarray, events: np.ndarray, keys_held_at_start: Dict[int, Iterable[int]],
                    abs_info: Optional[np.ndarray]) -> Actions:
    """The per-frame actions of `events` (structured: t_ns, device, type, code, value) over frames
    starting at `t_frames`, from the key state and abs_info (value at open) of each device."""
    count = len(t_frames)
    order = np.argsort(events["t_ns"], kind="stable")
    events = events[order]
    frame_of = np.searchsorted(t_frames, events["t_ns"], side="right") - 1
    kinds, codes, values, devices = events["type"], events["code"], events["value"], events["device"]

    held_by_key: Dict[int, np.ndarray] = {}
    key_events = kinds == EV_KEY
    pairs = {(int(d), int(c)) for d, c in zip(devices[key_events], codes[key_events])}
    pairs |= {(int(d), int(c)) for d, held in keys_held_at_start.items() for c in held}
    for device, code in sorted(pairs):
        mask = key_events & (devices == device) & (codes == code)
        held = _held(frame_of[mask], values[mask], code in set(keys_held_at_start.get(device, ())), count)
        held_by_key[code] = held_by_key[code] | held if code in held_by_key else held
    key_codes = np.array(sorted(c for c in held_by_key if is_keyboard_key(c) and c not in MOUSE_BUTTONS), dtype=np.int64)
    button_codes = np.array([c for c in MOUSE_BUTTONS if c in held_by_key], dtype=np.int64)

    def stack(selected: np.ndarray) -> np.ndarray:
        if len(selected) == 0:
            return np.zeros((count, 0), dtype=bool)
        return np.stack([held_by_key[int(c)] for c in selected], axis=1)

    inside = frame_of >= 0
    rel = np.zeros((count, 2), dtype=np.int64)
    wheel = np.zeros((count, 2), dtype=np.int64)
    for target, column, code in ((rel, 0, REL_X), (rel, 1, REL_Y), (wheel, 0, REL_WHEEL), (wheel, 1, REL_HWHEEL)):
        mask = inside & (kinds == EV_REL) & (codes == code)
        np.add.at(target[:, column], frame_of[mask], values[mask].astype(np.int64))

    axes: List[Tuple[int, int]] = []
    columns: List[np.ndarray] = []
    centred: List[bool] = []
    for row in (abs_info if abs_info is not None else []):
        device, code = int(row["device"]), int(row["code"])
        mask = (kinds == EV_ABS) & (devices == device) & (codes == code)
        last = np.searchsorted(frame_of[mask], np.arange(count), side="right") - 1
        raw = np.where(last >= 0, values[mask][np.maximum(last, 0)] if mask.any() else 0, int(row["value"]))
        scaled, is_centred = normalise_axis(raw, int(row["min"]), int(row["max"]))
        axes.append((device, code))
        columns.append(scaled)
        centred.append(is_centred)
    return Actions(
        t_ns=np.asarray(t_frames, dtype=np.int64), key_codes=key_codes, keys=stack(key_codes),
        button_codes=button_codes, buttons=stack(button_codes), rel=rel, wheel=wheel, abs_axes=axes,
        abs_centred=np.array(centred, dtype=bool),
        abs=np.stack(columns, axis=1) if columns else np.zeros((count, 0), dtype=np.float64))
