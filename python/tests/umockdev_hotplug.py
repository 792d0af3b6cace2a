"""Hotplug driver, run by Debian's python3 (gi + UMockdev) under `umockdev-wrapper`.

    umockdev-wrapper /usr/bin/python3 umockdev_hotplug.py PLAN.json

Creates an empty umockdev testbed, starts the recorder command of the plan in it, then follows the
plan's steps: `sleep` seconds, `wait_log` until the recorder's log holds a text, `add` a device (its ioctl dump attached right after the node
appears, as udev finishes a real node after creating it) and feed it a read script, `remove` it. Exits with the
recorder's exit code; the recorder's stderr goes to the plan's log file.
"""
import json
import os
import subprocess
import sys
import time

import gi

gi.require_version("UMockdev", "1.0")
from gi.repository import UMockdev  # noqa: E402


def main():
    with open(sys.argv[1]) as f:
        plan = json.load(f)
    testbed = UMockdev.Testbed.new()
    # umockdev redirects a path into the testbed only when it exists there: /dev/input must exist
    # before the recorder starts watching it, as it does on a real system.
    os.makedirs(os.path.join(testbed.get_root_dir(), "dev", "input"), exist_ok=True)
    with open(plan["log"], "w") as log:
        recorder = subprocess.Popen(plan["command"], stdout=subprocess.DEVNULL, stderr=log)
        syspaths = {}
        for step in plan["steps"]:
            if step["do"] == "sleep":
                time.sleep(step["seconds"])
            elif step["do"] == "wait_log":
                # Start-up on a loaded machine takes its time; the plan's clock starts when recording does.
                deadline = time.monotonic() + step.get("timeout", 60)
                while step["text"] not in open(plan["log"]).read():
                    assert recorder.poll() is None, "the recorder ended before logging " + step["text"]
                    assert time.monotonic() < deadline, "the recorder never logged " + step["text"]
                    time.sleep(0.05)
            elif step["do"] == "add":
                with open(step["umockdev"]) as f:
                    description = f.read()
                assert testbed.add_from_string(description), "umockdev did not add " + step["umockdev"]
                testbed.load_ioctl(step["devnode"], step["ioctl"])
                syspaths[step["devnode"]] = description.split("\n", 1)[0][len("P: "):]
                if step.get("script"):
                    testbed.load_script(step["devnode"], step["script"])
            elif step["do"] == "remove":
                testbed.remove_device("/sys" + syspaths[step["devnode"]])
        sys.exit(recorder.wait(timeout=plan["timeout"]))


if __name__ == "__main__":
    main()
