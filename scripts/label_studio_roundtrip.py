"""Label Studio round trip through its HTTP API, for docs/ANNOTATION.md.

    python3 scripts/label_studio_roundtrip.py URL FOLDER OUT_DIR [--screenshot]

With Label Studio running on URL (started with LABEL_STUDIO_LOCAL_FILES_SERVING_ENABLED=true and
LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT = FOLDER's parent), this creates a project from the folder
`recorder export --to label-studio` wrote (config.xml as labeling config, a local-files storage for
the folder, tasks.json imported), adds one annotation as an annotator would (a range on the series and
a range on the video timeline), and writes Label Studio's JSON export to OUT_DIR/export.json, ready for
`recorder labels import`. --screenshot also logs in with headless Chromium (playwright) and saves the
labeling page (video + synced series) as OUT_DIR/label-studio.png. Credentials (a user Label Studio
knows) come from LABEL_STUDIO_USERNAME / LABEL_STUDIO_PASSWORD.
"""
import json
import os
import sys
import time


class Client:
    """Label Studio's API over a logged-in browser session (cookies + CSRF), as the web page uses it."""

    def __init__(self, url, username, password):
        import re

        import requests

        self.url, self.http = url, requests.Session()
        page = self.http.get(url + "/user/login/", timeout=120)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        reply = self.http.post(url + "/user/login/", timeout=120, headers={"Referer": url + "/user/login/"},
                               data={"csrfmiddlewaretoken": token, "email": username, "password": password})
        reply.raise_for_status()
        if "sessionid" not in self.http.cookies:
            raise SystemExit("Label Studio refused the login for %s" % username)

    def __call__(self, method, path, body=None, raw=False):
        headers = {"X-CSRFToken": self.http.cookies.get("csrftoken", ""), "Referer": self.url + "/"}
        reply = self.http.request(method, self.url + path, json=body, headers=headers, timeout=300)
        if reply.status_code >= 400:
            raise SystemExit("%s %s: %d %s" % (method, path, reply.status_code, reply.text[:500]))
        return reply.content if raw else (reply.json() if reply.content else None)


def screenshot(url, project, task, out):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"),
                                    args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1700})
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
    url, folder, out_dir = sys.argv[1].rstrip("/"), os.path.abspath(sys.argv[2]), sys.argv[3]
    call = Client(url, os.environ["LABEL_STUDIO_USERNAME"], os.environ["LABEL_STUDIO_PASSWORD"])
    os.makedirs(out_dir, exist_ok=True)
    config = open(os.path.join(folder, "config.xml")).read()
    tasks = json.load(open(os.path.join(folder, "tasks.json")))
    project = call("POST", "/api/projects", {"title": os.path.basename(folder), "label_config": config})
    call("POST", "/api/storages/localfiles", {"project": project["id"], "path": folder,
                                                          "title": "session", "use_blob_urls": False})
    call("POST", "/api/projects/%d/import" % project["id"], tasks)
    (task,) = call("GET", "/api/tasks?project=%d" % project["id"])["tasks"]
    fps = task["data"]["fps"]
    result = [
        {"from_name": "labels", "to_name": "series", "type": "timeserieslabels",
         "value": {"start": 0.5, "end": 1.5, "instant": False, "timeserieslabels": ["jump"]}},
        {"from_name": "video_labels", "to_name": "video", "type": "timelinelabels",
         "value": {"ranges": [{"start": int(2 * fps) + 1, "end": int(3 * fps)}], "timelinelabels": ["walk"]}},
    ]
    call("POST", "/api/tasks/%d/annotations" % task["id"], {"result": result})
    exported = call("GET", "/api/projects/%d/export?exportType=JSON" % project["id"], raw=True)
    with open(os.path.join(out_dir, "export.json"), "wb") as handle:
        handle.write(exported)
    print("project %d task %d: export %s" % (project["id"], task["id"], os.path.join(out_dir, "export.json")))
    if "--screenshot" in sys.argv:
        screenshot(url, project["id"], task["id"], os.path.join(out_dir, "label-studio.png"))
        print("screenshot", os.path.join(out_dir, "label-studio.png"))


if __name__ == "__main__":
    main()
