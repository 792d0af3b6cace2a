#!/usr/bin/env python3
"""Label Studio round trip, by hand in one script (not part of `make test`: Label Studio is too heavy for CI).

Records a few seconds on a private Xvfb (moving scene + replayed mouse and keyboard), exports it with
`recorder export --to label-studio`, starts Label Studio on 127.0.0.1 with local-files serving, creates
a project from the exported config.xml, imports tasks.json, checks that Label Studio serves the video
and the series, takes screenshots of the task in headless Chromium (Playwright driving Debian's
/usr/bin/chromium), adds labels through the REST API, exports the project as JSON and imports that
into the session file with `recorder labels import`, then `recorder labels export`s it and checks the
times. docs/ANNOTATION.md describes the same steps for a user.

Run it with the Python of the virtualenv that holds label-studio and playwright (stdlib otherwise):

    /work/ls-venv/bin/python scripts/label_studio_roundtrip.py --workdir /tmp/ls-roundtrip [--screenshots docs/images]

`recorder` itself runs the reader package with `python3` from PATH (or $RECORDER_PYTHON).
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(os.path.dirname(REPO), "shared", "fixtures", "evemu")
HP_PROBES = os.path.join(REPO, "python", "tests", "fixtures", "hp_bar_probes.toml")
EMAIL, PASSWORD, TOKEN = "annotator@example.com", "roundtrip-password", "0123456789abcdef0123456789abcdef01234567"


def log(message):
    print("==> " + message, flush=True)


def run(*args, **kwargs):
    log(" ".join(map(str, args)))
    return subprocess.run(list(map(str, args)), check=True, **kwargs)


class Api:
    """Label Studio's REST API with the user's legacy token."""

    def __init__(self, base):
        self.base = base

    def call(self, method, path, body=None, raw=False):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Authorization", "Token " + TOKEN)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                payload = response.read()
                return (payload, response.headers) if raw else json.loads(payload or b"null")
        except urllib.error.HTTPError as error:
            raise SystemExit("%s %s -> %d: %s" % (method, path, error.code, error.read()[:2000].decode(errors="replace")))


def free_display():
    for n in range(90, 300):
        if not os.path.exists("/tmp/.X11-unix/X%d" % n) and not os.path.exists("/tmp/.X%d-lock" % n):
            return ":%d" % n
    raise SystemExit("no free X display number")


def record(recorder, path, seconds, children):
    display = free_display()
    children.append(subprocess.Popen(["Xvfb", display, "-screen", "0", "1280x720x24", "-nolisten", "tcp",
                                      "+extension", "MIT-SHM"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True))
    for _ in range(200):
        if subprocess.run(["xdpyinfo", "-display", display], capture_output=True).returncode == 0:
            break
        time.sleep(0.05)
    children.append(subprocess.Popen([sys.executable, os.path.join(REPO, "scripts", "moving_scene.py"), display,
                                      str(seconds + 5)], start_new_session=True))
    time.sleep(1)
    mouse = "replay:%s,%s" % (os.path.join(FIXTURES, "ps2-generic-mouse.desc"),
                              os.path.join(FIXTURES, "ps2-generic-mouse.events"))
    keyboard = "replay:" + os.path.join(FIXTURES, "logitech-k400-plus.events")
    run(recorder, "record", "--display", display, "--output", path, "--duration", seconds, "--fps", 30,
        "--input", mouse, "--input", keyboard, "--state-config", HP_PROBES, "--meta", "purpose=label-studio-roundtrip")


def start_label_studio(executable, workdir, document_root, port, children):
    env = dict(os.environ,
               LABEL_STUDIO_LOCAL_FILES_SERVING_ENABLED="true",
               LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT=document_root,
               LABEL_STUDIO_BASE_DATA_DIR=os.path.join(workdir, "ls-data"),
               DJANGO_DB="sqlite")
    out = open(os.path.join(workdir, "label-studio.log"), "w")
    args = [executable, "start", "--no-browser", "--host", "127.0.0.1", "--port", str(port),
            "--data-dir", os.path.join(workdir, "ls-data"),
            "--username", EMAIL, "--password", PASSWORD, "--user-token", TOKEN, "--enable-legacy-api-token"]
    log(" ".join(args))
    children.append(subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True))
    base = "http://127.0.0.1:%d" % port
    for _ in range(600):
        try:
            with urllib.request.urlopen(base + "/health", timeout=2) as response:
                if response.status == 200:
                    return base
        except (urllib.error.URLError, OSError):
            pass
        if children[-1].poll() is not None:
            raise SystemExit("label-studio exited; see %s" % out.name)
        time.sleep(0.5)
    raise SystemExit("label-studio did not answer on %s" % base)


def screenshot(base, project, task, path, chromium):
    """Logs in through the web form and photographs the task: before and after the labels."""
    from playwright.sync_api import sync_playwright

    shots = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--autoplay-policy=no-user-gesture-required"])
        page = browser.new_page(viewport={"width": 1400, "height": 1700})
        page.goto(base + "/user/login/")
        page.fill("input[name=email]", EMAIL)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit], input[type=submit]")
        page.wait_for_url(lambda url: "/user/login" not in url, timeout=60000)
        page.goto("%s/projects/%d/data?task=%d" % (base, project, task))
        try:
            page.wait_for_selector("video", state="attached", timeout=60000)
        except Exception:
            page.screenshot(path=path.replace(".png", "-failed.png"))
            raise
        page.wait_for_function("(() => { const v = document.querySelector('video'); return v && v.readyState >= 2; })()",
                               timeout=60000)
        video = page.evaluate("""() => { const v = document.querySelector('video');
            return {duration: v.duration, width: v.videoWidth, height: v.videoHeight, readyState: v.readyState,
                    error: v.error && v.error.code}; }""")
        page.wait_for_timeout(2000)
        series_paths = page.evaluate("document.querySelectorAll('svg path').length")
        shots["video"] = video
        shots["svg_paths"] = series_paths
        # Seek the video; the series cursor should follow (sync group "session").
        page.evaluate("() => { const v = document.querySelector('video'); v.currentTime = Math.min(1.5, v.duration / 2); }")
        page.wait_for_timeout(1500)
        shots["current_time_after_seek"] = page.evaluate("document.querySelector('video').currentTime")
        page.screenshot(path=path)
        browser.close()
    return shots


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", default="/tmp/ls-roundtrip", help="scratch folder (replaced)")
    parser.add_argument("--session", help="an existing sealed session file instead of recording one")
    parser.add_argument("--seconds", type=int, default=4)
    parser.add_argument("--port", type=int, default=8093)
    built = [os.path.join(REPO, ".build", c, "recorder") for c in ("release", "debug")]
    parser.add_argument("--recorder", default=next((b for b in built if os.path.exists(b)), built[-1]),
                        help="the recorder binary (default: this checkout's .build/release, else .build/debug)")
    parser.add_argument("--label-studio", default=os.path.join(os.path.dirname(sys.executable), "label-studio"))
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--screenshots", help="folder for PNGs (default: the workdir)")
    parser.add_argument("--keep-running", action="store_true", help="leave Label Studio up at the end")
    options = parser.parse_args()

    workdir = os.path.abspath(options.workdir)
    shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(workdir)
    shots_dir = os.path.abspath(options.screenshots or workdir)
    os.makedirs(shots_dir, exist_ok=True)
    children = []
    try:
        session = os.path.join(workdir, "session.h5")
        if options.session:
            shutil.copy(options.session, session)
        else:
            record(options.recorder, session, options.seconds, children)
            for child in children:
                child.terminate()
        root = os.path.join(workdir, "export")
        os.makedirs(root)
        folder = os.path.join(root, "session-ls")
        run(options.recorder, "export", session, "--to", "label-studio", "--output", folder)
        log("exported: %s" % ", ".join(sorted(os.listdir(folder))))

        base = start_label_studio(options.label_studio, workdir, root, options.port, children)
        api = Api(base)
        with open(os.path.join(folder, "config.xml")) as handle:
            config = handle.read()
        project = api.call("POST", "/api/projects", {"title": "recorder session", "label_config": config})
        log("project %d created with the exported labeling config" % project["id"])
        storage = api.call("POST", "/api/storages/localfiles", {
            "project": project["id"], "path": folder, "title": "recorder export", "use_blob_urls": False})
        log("local-files storage %d on %s (serves the task URLs; not synced)" % (storage["id"], folder))
        with open(os.path.join(folder, "tasks.json")) as handle:
            tasks = json.load(handle)
        imported = api.call("POST", "/api/projects/%d/import" % project["id"], tasks)
        log("import: %s" % json.dumps(imported))
        task_list = api.call("GET", "/api/tasks?project=%d" % project["id"])
        task_list = task_list["tasks"] if isinstance(task_list, dict) else task_list
        task = task_list[0]
        for key in ("video", "series"):
            payload, headers = api.call("GET", task["data"][key], raw=True)
            log("Label Studio serves %s: %d bytes, %s" % (task["data"][key], len(payload), headers.get("Content-Type")))
        fps = float(task["data"]["fps"])

        before = screenshot(base, project["id"], task["id"], os.path.join(shots_dir, "label-studio-task.png"),
                            options.chromium)
        log("browser: video %s, %d svg paths, currentTime after seek %.3f"
            % (before["video"], before["svg_paths"], before["current_time_after_seek"]))

        # Labels as an annotator would draw them: two ranges on the series, one on the video timeline.
        result = [
            {"id": "series1", "from_name": "labels", "to_name": "series", "type": "timeserieslabels",
             "value": {"start": 0.5, "end": 1.25, "instant": False, "timeserieslabels": ["action"]}},
            {"id": "series2", "from_name": "labels", "to_name": "series", "type": "timeserieslabels",
             "value": {"start": 2.0, "end": 2.5, "instant": False, "timeserieslabels": ["idle"]}},
            {"id": "video1", "from_name": "video_labels", "to_name": "video", "type": "timelinelabels",
             "value": {"ranges": [{"start": 16, "end": 45}], "timelinelabels": ["menu"]}},
        ]
        annotation = api.call("POST", "/api/tasks/%d/annotations" % task["id"], {"result": result})
        log("annotation %d with %d results" % (annotation["id"], len(result)))
        screenshot(base, project["id"], task["id"], os.path.join(shots_dir, "label-studio-labels.png"), options.chromium)

        exported = api.call("GET", "/api/projects/%d/export?exportType=JSON" % project["id"])
        export_path = os.path.join(workdir, "label-studio-export.json")
        with open(export_path, "w") as handle:
            json.dump(exported, handle, indent=2)
        log("Label Studio export: %d task(s), %d annotation(s)"
            % (len(exported), sum(len(t.get("annotations", [])) for t in exported)))

        run(options.recorder, "labels", "import", session, "--set", "ls", export_path)
        labels_json = os.path.join(workdir, "labels.json")
        run(options.recorder, "labels", "export", session, "--set", "ls", "--output", labels_json)
        with open(labels_json) as handle:
            rows = sorted((round(r["t_start_s"], 6), round(r["t_end_s"], 6), r["label"])
                          for r in json.load(handle)["labels"])
        expected = sorted([(0.5, 1.25, "action"), (2.0, 2.5, "idle"),
                           (round(15 / fps, 6), round(45 / fps, 6), "menu")])
        for row in rows:
            log("label back from the file: %.6f .. %.6f s  %s" % row)
        if rows != expected:
            raise SystemExit("round trip mismatch: %r != %r" % (rows, expected))
        log("round trip OK: Label Studio's export came back into %s as /annotations/ls with the drawn times" % session)
        if options.keep_running:
            log("Label Studio stays up on %s (user %s / %s); Ctrl-C ends it" % (base, EMAIL, PASSWORD))
            children[-1].wait()
    finally:
        for child in children:
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGTERM)  # each child leads its own session (start_new_session)
        for child in children:
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()


if __name__ == "__main__":
    main()
