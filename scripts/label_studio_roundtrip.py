"""Label Studio round trip through its HTTP API, for docs/ANNOTATION.md.

    python3 scripts/label_studio_roundtrip.py URL TOKEN FOLDER OUT_DIR [--screenshot]

With Label Studio running on URL (started with LABEL_STUDIO_LOCAL_FILES_SERVING_ENABLED=true and
LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT = FOLDER's parent), this creates a project from the folder
`recorder export --to label-studio` wrote (config.xml as labeling config, a local-files storage for
the folder, tasks.json imported), adds one annotation as an annotator would (a range on the series and
a range on the video timeline), and writes Label Studio's JSON export to OUT_DIR/export.json, ready for
`recorder labels import`. --screenshot also logs in with headless Chromium (playwright) and saves the
labeling page (video + synced series) as OUT_DIR/label-studio.png; credentials come from
LABEL_STUDIO_USERNAME / LABEL_STUDIO_PASSWORD.
"""
import json
import os
import sys
import time
import urllib.request


def call(url, token, method="GET", path="", body=None, raw=False):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url + path, data=data, method=method)
    request.add_header("Authorization", "Token " + token)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=120) as response:
        payload = response.read()
    return payload if raw else json.loads(payload or b"null")


def screenshot(url, project, task, out):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"),
                                    args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url + "/user/login/")
        page.fill("input[name=email]", os.environ["LABEL_STUDIO_USERNAME"])
        page.fill("input[name=password]", os.environ["LABEL_STUDIO_PASSWORD"])
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        page.goto("%s/projects/%d/data?task=%d" % (url, project, task))
        page.wait_for_load_state("networkidle")
        time.sleep(8)  # the video and the series render after the page settles
        page.screenshot(path=out, full_page=True)
        browser.close()


def main():
    url, token, folder, out_dir = sys.argv[1].rstrip("/"), sys.argv[2], os.path.abspath(sys.argv[3]), sys.argv[4]
    os.makedirs(out_dir, exist_ok=True)
    config = open(os.path.join(folder, "config.xml")).read()
    tasks = json.load(open(os.path.join(folder, "tasks.json")))
    project = call(url, token, "POST", "/api/projects", {"title": os.path.basename(folder), "label_config": config})
    call(url, token, "POST", "/api/storages/localfiles", {"project": project["id"], "path": folder,
                                                          "title": "session", "use_blob_urls": False})
    call(url, token, "POST", "/api/projects/%d/import" % project["id"], tasks)
    (task,) = call(url, token, "GET", "/api/tasks?project=%d" % project["id"])["tasks"]
    fps = task["data"]["fps"]
    result = [
        {"from_name": "labels", "to_name": "series", "type": "timeserieslabels",
         "value": {"start": 0.5, "end": 1.5, "instant": False, "timeserieslabels": ["jump"]}},
        {"from_name": "video_labels", "to_name": "video", "type": "timelinelabels",
         "value": {"ranges": [{"start": int(2 * fps) + 1, "end": int(3 * fps)}], "timelinelabels": ["walk"]}},
    ]
    call(url, token, "POST", "/api/tasks/%d/annotations" % task["id"], {"result": result})
    exported = call(url, token, "GET", "/api/projects/%d/export?exportType=JSON" % project["id"], raw=True)
    with open(os.path.join(out_dir, "export.json"), "wb") as handle:
        handle.write(exported)
    print("project %d task %d: export %s" % (project["id"], task["id"], os.path.join(out_dir, "export.json")))
    if "--screenshot" in sys.argv:
        screenshot(url, project["id"], task["id"], os.path.join(out_dir, "label-studio.png"))
        print("screenshot", os.path.join(out_dir, "label-studio.png"))


if __name__ == "__main__":
    main()
