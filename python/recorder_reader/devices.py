"""One device table for a split session whose parts each list their own /input/devices.

The rule, applied part by part in order (docs/READER.md, "Split sessions"):

1. A part's device row is the session device with the same ``id`` when that device has the same
   identity: ``path``, ``name``, ``bus``, ``vendor``, ``product``, ``version``, ``phys`` and
   ``uniq`` (the recorder keeps a device's id for the whole session, so this is the usual case).
2. Otherwise it is a device with the same identity that the previous part listed and that no
   other row of this part has taken; of several, the one seen last (highest ``first_seen_ns``: a
   device unplugged and plugged back in has two rows, the newer one is the one still there).
3. Otherwise it is a new session device. It keeps its id when the session table does not use
   it yet, else it takes the next id after the highest in use.

``kind``, ``first_seen_ns`` and ``clock_source`` are not part of the identity: a session device
keeps the values of the first part that listed it.
"""

from __future__ import annotations

from typing import Any, Dict, List, Sequence, Tuple

import numpy as np

IDENTITY_FIELDS = ("path", "name", "bus", "vendor", "product", "version", "phys", "uniq")


def identity(device: Dict[str, Any]) -> Tuple[Any, ...]:
    """The fields that say two device rows of different parts are the same device."""
    return tuple(device.get(field) for field in IDENTITY_FIELDS)


class DeviceTable:
    """The session-wide devices, built by :meth:`add_part` for each part in order."""

    def __init__(self) -> None:
        self.devices: List[Dict[str, Any]] = []
        self._by_id: Dict[int, Dict[str, Any]] = {}
        self._previous_ids: List[int] = []

    def add_part(self, number: int, devices: Sequence[Dict[str, Any]]) -> Dict[int, int]:
        """Match one part's devices (``Session.devices`` rows) to session devices; returns {part id: session id}."""
        mapping: Dict[int, int] = {}
        taken = set()
        for device in devices:
            known = self._by_id.get(int(device["id"]))
            if known is not None and identity(known) == identity(device):
                mapping[int(device["id"])] = known["id"]
                taken.add(known["id"])
        for device in devices:
            if int(device["id"]) in mapping:
                continue
            candidates = [self._by_id[i] for i in self._previous_ids
                          if i not in taken and identity(self._by_id[i]) == identity(device)]
            if candidates:
                chosen = max(candidates, key=lambda d: (d.get("first_seen_ns") or 0, d["id"]))
            else:
                chosen = self._new_device(device)
            mapping[int(device["id"])] = chosen["id"]
            taken.add(chosen["id"])
        for device in devices:
            self._merge(self._by_id[mapping[int(device["id"])]], device, number)
        self._previous_ids = [mapping[int(d["id"])] for d in devices]
        return mapping

    def _new_device(self, device: Dict[str, Any]) -> Dict[str, Any]:
        wanted = int(device["id"])
        session_id = wanted if wanted not in self._by_id else max(self._by_id) + 1
        row = dict(device, id=session_id, capabilities={}, keys_held_at_start=list(device.get("keys_held_at_start", [])),
                   parts=[])
        self.devices.append(row)
        self._by_id[session_id] = row
        return row

    @staticmethod
    def _merge(row: Dict[str, Any], device: Dict[str, Any], number: int) -> None:
        """Capabilities are the union over the parts; ``parts`` lists the parts that listed the device."""
        for event_type, codes in device.get("capabilities", {}).items():
            row["capabilities"][event_type] = sorted(set(row["capabilities"].get(event_type, [])) | set(codes))
        row["capabilities"] = dict(sorted(row["capabilities"].items()))
        row["parts"].append(number)


def remap(ids: np.ndarray, mapping: Dict[int, int]) -> np.ndarray:
    """``ids`` (a device column) with every id in ``mapping`` replaced; other ids stay as they are."""
    if not mapping or len(ids) == 0:
        return ids
    size = max(int(ids.max()), max(mapping)) + 1
    lookup = np.arange(size, dtype=np.int64)
    for part_id, session_id in mapping.items():
        lookup[part_id] = session_id
    return lookup[ids.astype(np.int64)].astype(ids.dtype)
