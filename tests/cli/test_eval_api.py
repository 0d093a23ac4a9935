"""``swift-ocr eval rec|det --api``: a flaky OpenAI-compatible server on 127.0.0.1 (HTTP 500, 429, timeouts, dropped
connections, rows that never succeed), killed and restarted mid-run, and an eval client killed mid-run: a rerun with
the same --output ends with every row answered exactly once, failed rows reported.

The server (written below with the standard library, run as a subprocess) answers each request with the reference
text of the row whose image it received (looked up by the SHA-256 of the decoded base64 image), so a right answer
proves that the row's own image reached the server and its answer came back to the row. It logs every request it
answers to a file, so the test also sees what a rerun sends.
"""
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
PROMPT = "OCR: "

SERVER = r'''
import base64, hashlib, json, os, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port, answers_path, log_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
cfg = json.load(open(answers_path, encoding="utf-8"))
answers, prompts = cfg["answers"], cfg["prompts"]
poison, plan, delay = set(cfg["poison"]), cfg["plan"], cfg["delay"]
attempts, lock = {}, threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def _send(self, code, obj, headers=()):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/v1/models":
            return self._send(200, {"object": "list", "data": [{"id": "flaky-ocr", "object": "model"}]})
        self._send(404, {"error": "no such path"})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path != "/v1/chat/completions":
            return self._send(404, {"error": "no such path"})
        # the request must be what swift infer sends: the user turn with the image part, nothing else
        msgs = body["messages"]
        ok = (body.get("model") == "flaky-ocr" and body.get("temperature") == 0 and body.get("max_tokens") == 64
              and len(msgs) == 1 and msgs[0]["role"] == "user" and len(msgs[0]["content"]) == 2
              and msgs[0]["content"][0]["type"] == "image_url")
        if ok:
            head, data = msgs[0]["content"][0]["image_url"]["url"].split(",", 1)
            sha = hashlib.sha256(base64.b64decode(data)).hexdigest()
            ok = (head.startswith("data:image/") and head.endswith(";base64") and sha in answers
                  and msgs[0]["content"][1] == {"type": "text", "text": prompts[sha]})
        if not ok:
            return self._send(400, {"error": "unexpected request", "body": str(body)[:300]})
        with lock:
            n = attempts[sha] = attempts.get(sha, 0) + 1
        kind = plan.get(sha, "ok")
        if sha in poison:
            return self._send(500, {"error": "this image always fails"})
        if n == 1 and kind == "500":
            return self._send(500, {"error": "internal"})
        if n == 1 and kind == "429":
            return self._send(429, {"error": "slow down"}, [("retry-after-ms", "50")])
        if n == 1 and kind == "sleep":
            time.sleep(4)  # past the client's timeout; then no answer at all
        if n == 1 and kind in ("sleep", "drop"):
            self.close_connection = True
            self.connection.shutdown(2)
            return
        time.sleep(delay)
        with lock, open(log_path, "a", encoding="utf-8") as log:
            log.write(sha + "\n")
        self._send(200, {"id": "x", "object": "chat.completion", "created": 0, "model": "flaky-ocr",
                         "choices": [{"index": 0, "message": {"role": "assistant", "content": answers[sha]},
                                      "finish_reason": "stop"}],
                         "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})


ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
'''


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env():
    return {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def convert(shared_data, tmp_path, name, task="rec", extra=()):
    out = tmp_path / "data" / f"{name}.jsonl"
    root = shared_data / name
    images, labels = (root / "img", root / "box") if name == "sroie" else (root / "imgs", root / "gts")
    subprocess.run([str(BIN / "swift-ocr"), "convert", "--format", "icdar", "--images", str(images), "--labels",
                    str(labels), "--task", task, "--model-family", "got", "--output", str(out), *extra],
                   check=True, capture_output=True, env=env(), timeout=120)
    return out


def read_jsonl(path):
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def image_sha(row):
    return hashlib.sha256(Path(row["images"][0]).read_bytes()).hexdigest()


class Server:
    """The flaky server as a subprocess on 127.0.0.1: start(), kill() (SIGKILL), answered() (its answer log)."""

    def __init__(self, tmp_path, rows, poison=(), plan=None, delay=0.0):
        self.port = free_port()
        self.log = tmp_path / "server_answers.log"
        self.script = tmp_path / "flaky_server.py"
        self.script.write_text(SERVER, encoding="utf-8")
        self.cfg = tmp_path / "server_cfg.json"
        self.cfg.write_text(json.dumps({
            "answers": {image_sha(r): r["messages"][-1]["content"] for r in rows},
            "prompts": {image_sha(r): r["messages"][0]["content"].replace("<image>", "") for r in rows},
            "poison": list(poison), "plan": plan or {}, "delay": delay}), encoding="utf-8")
        self.proc = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self):
        self.proc = subprocess.Popen([sys.executable, str(self.script), str(self.port), str(self.cfg),
                                      str(self.log)])
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                assert self.proc.poll() is None, "the test server died"
                time.sleep(0.05)
        raise AssertionError("the test server did not start")

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def answered(self):
        return self.log.read_text().split() if self.log.exists() else []


@pytest.fixture
def server_factory(tmp_path):
    servers = []

    def make(*args, **kwargs):
        server = Server(tmp_path, *args, **kwargs)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.kill()


def eval_cmd(kind, server, datasets, output, *extra):
    return [str(BIN / "swift-ocr"), "eval", kind, "--api", server.url, "--dataset", *map(str, datasets),
            "--output", str(output), "--max-tokens", "64", "--timeout", "1.5", "--retry-wait", "0.2",
            "--no-progress", "--json", *extra]


def wait_lines(path, n, proc, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_bytes().count(b"\n") >= n:
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    raise AssertionError(f"{path}: fewer than {n} rows after {timeout} s")


def check_exactly_once(output, rows):
    """Each input row is in the result file once, in input order, with its own reference as labels."""
    out = read_jsonl(output)
    assert [r["swift_ocr_api"]["index"] for r in out] == list(range(len(rows)))
    for res, row in zip(out, rows):
        assert res["labels"] == row["messages"][-1]["content"]
        assert res["images"] == [{"bytes": None, "path": row["images"][0]}]
        assert res["messages"][:-1] == row["messages"][:-1]
        assert res["messages"][-1] == {"role": "assistant", "content": res["response"]}
        rec = res["swift_ocr_api"]
        assert (rec["model"], rec["temperature"], rec["max_tokens"]) == ("flaky-ocr", 0.0, 64)
    return out


def test_flaky_server_killed_and_restarted(tmp_path, shared_data, server_factory):
    datasets = [convert(shared_data, tmp_path, "sroie"), convert(shared_data, tmp_path, "icdar2015")]
    rows = [r for d in datasets for r in read_jsonl(d)]
    n = len(rows)  # 20 receipts + the ICDAR 2015 images with some readable text
    assert n >= 25 and len({image_sha(r) for r in rows}) == n
    shas = [image_sha(r) for r in rows]
    poison = {shas[3], shas[22]}
    kinds = ["500", "429", "sleep", "drop", "ok"]
    plan = {sha: kinds[i % len(kinds)] for i, sha in enumerate(shas)}
    server = server_factory(rows, poison=poison, plan=plan, delay=0.15)
    server.start()
    output = tmp_path / "out" / "result.jsonl"

    first = subprocess.Popen(eval_cmd("rec", server, datasets, output, "--concurrency", "3", "--retries", "3"),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env())
    try:
        wait_lines(output, 6, first)
        server.kill()  # mid-run: requests in flight and the next ones fail to connect
        time.sleep(0.3)
        server.start()  # back within the retry window of most rows
        stdout, stderr = first.communicate(timeout=240)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == 1, stderr  # some rows failed (at least the two that always fail)
    report = json.loads(stdout)["api"]
    assert report["rows"] == n and report["sent"] == n and report["failed"] >= 2
    assert report["answered"] + report["failed"] == n
    out = check_exactly_once(output, rows)
    failed = {r["swift_ocr_api"]["index"] for r in out if r["swift_ocr_api"]["status"] == "failed"}
    assert {3, 22} <= failed and set(map(int, report["errors"])) == failed
    for r in out:
        if r["swift_ocr_api"]["status"] == "failed":
            assert r["response"] == "" and r["swift_ocr_api"]["error"]
        else:  # the row's own image got the row's own answer
            assert r["response"] == r["labels"] and r["swift_ocr_api"]["error"] is None
    answered_first = len(server.answered())

    # the rerun sends only the rows not answered yet; the two poisoned rows fail again and are reported
    rerun = subprocess.run(eval_cmd("rec", server, datasets, output, "--concurrency", "3", "--retries", "2"),
                           capture_output=True, text=True, env=env(), timeout=240)
    assert rerun.returncode == 1, rerun.stderr
    payload = json.loads(rerun.stdout)
    report = payload["api"]
    assert report["kept"] == n - len(failed) and report["sent"] == len(failed)
    assert report["dropped_failed"] == len(failed)
    assert (report["answered"], report["failed"]) == (n - 2, 2) and set(report["errors"]) == {"3", "22"}
    assert "2 failed" in rerun.stderr and "row 3: HTTP 500" in rerun.stderr
    assert [out_row["swift_ocr_api"]["attempts"] for out_row in read_jsonl(output)[3:4]] == [3]  # 1 + 2 retries
    # (as sets: a request the client gave up on after its timeout may have been answered too)
    resent = server.answered()[answered_first:]
    assert set(resent) == {shas[i] for i in failed - {3, 22}}
    out = check_exactly_once(output, rows)
    assert [r["swift_ocr_api"]["status"] for r in out] == ["failed" if i in (3, 22) else "ok" for i in range(n)]
    # scores: n - 2 exact answers, 2 failed rows scored as empty responses
    assert payload["n"] == n and payload["accuracy"] == pytest.approx((n - 2) / n)
    ref_chars = [len(" ".join(rows[i]["messages"][-1]["content"].split())) for i in (3, 22)]
    assert payload["cer"] > 0 and payload["ned"] == pytest.approx((n - 2) / n)
    assert ref_chars[0] > 0 and ref_chars[1] > 0
    # `eval rec --results` reads the same file unchanged, with the same scores
    plain = subprocess.run([str(BIN / "swift-ocr"), "eval", "rec", "--results", str(output), "--json"],
                           capture_output=True, text=True, env=env(), timeout=60, check=True)
    assert {k: v for k, v in payload.items() if k != "api"} == json.loads(plain.stdout)


def test_client_killed_mid_run_and_torn_line(tmp_path, shared_data, server_factory):
    dataset = convert(shared_data, tmp_path, "sroie")
    rows = read_jsonl(dataset)
    server = server_factory(rows, delay=0.3)
    server.start()
    output = tmp_path / "result.jsonl"
    proc = subprocess.Popen(eval_cmd("rec", server, [dataset], output, "--concurrency", "2"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env())
    try:
        wait_lines(output, 5, proc)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
    time.sleep(1.0)  # requests the server had in flight finish (and are logged) before we count
    kept = read_jsonl(output)
    assert 5 <= len(kept) < 20
    # an interrupted append: half a line at the end (what a crash inside write() leaves)
    missing = sorted(set(range(20)) - {r["swift_ocr_api"]["index"] for r in kept})
    torn = json.dumps({"response": "half", "swift_ocr_api": {"index": missing[0]}})[:25]
    with open(output, "ab") as fh:
        fh.write(torn.encode())
    answered_before = len(server.answered())

    rerun = subprocess.run(eval_cmd("rec", server, [dataset], output, "--concurrency", "4"),
                           capture_output=True, text=True, env=env(), timeout=240)
    assert rerun.returncode == 0, rerun.stderr
    payload = json.loads(rerun.stdout)
    assert payload["api"]["torn_line"] is True and payload["api"]["kept"] == len(kept)
    assert payload["api"]["sent"] == len(missing) and payload["api"]["failed"] == 0
    assert "torn last line" in rerun.stderr
    # only the missing rows were sent again: the server answered each of them once more
    shas = [image_sha(r) for r in rows]
    assert set(server.answered()[answered_before:]) == {shas[i] for i in missing}
    out = check_exactly_once(output, rows)
    assert all(r["response"] == r["labels"] for r in out)
    assert payload["accuracy"] == 1.0 and payload["n"] == 20
    # kept rows are byte-for-byte those of the first run
    assert [r for r in out if r["swift_ocr_api"]["index"] not in missing] == sorted(
        kept, key=lambda r: r["swift_ocr_api"]["index"])

    # a third run has nothing to send; another dataset or other settings with the same output are refused
    again = subprocess.run(eval_cmd("rec", server, [dataset], output), capture_output=True, text=True, env=env(),
                           timeout=120)
    assert again.returncode == 0 and json.loads(again.stdout)["api"]["sent"] == 0
    other = subprocess.run(eval_cmd("rec", server, [dataset], output, "--temperature", "0.7"), capture_output=True,
                           text=True, env=env(), timeout=120)
    assert other.returncode == 2 and "temperature" in other.stderr
    assert read_jsonl(output) == out


def test_det_rows_keep_tile_metadata(tmp_path, shared_data, server_factory):
    """Detection rows (tiles with their swift_ocr metadata) answered with their own targets score Hmean 1 against
    the original ICDAR labels: the metadata reached the result rows and eval det mapped the tiles back."""
    dataset = convert(shared_data, tmp_path, "sroie", task="det", extra=("--max-boxes", "20"))
    rows = read_jsonl(dataset)
    assert any("swift_ocr" in r for r in rows)
    server = server_factory(rows)
    server.start()
    output = tmp_path / "det.jsonl"
    proc = subprocess.run(eval_cmd("det", server, [dataset], output, "--model-family", "got", "--gt",
                                   str(shared_data / "sroie")), capture_output=True, text=True, env=env(),
                          timeout=240)
    assert proc.returncode == 0, proc.stderr
    out = read_jsonl(output)
    assert [r.get("swift_ocr") for r in out] == [r.get("swift_ocr") for r in rows]
    summary = json.loads(proc.stdout)
    assert summary["api"]["answered"] == len(rows) and summary["n_images"] == 20
    assert summary["hmean"] == 1.0
    # draw and report read the file unchanged
    gt = ("--model-family", "got", "--gt", str(shared_data / "sroie"))
    drawn = subprocess.run([str(BIN / "swift-ocr"), "draw", "--results", str(output), *gt, "--output",
                            str(tmp_path / "drawn"), "--limit", "2"], capture_output=True, text=True, env=env(),
                           timeout=240)
    assert drawn.returncode == 0, drawn.stderr
    assert len(list((tmp_path / "drawn").glob("*.png"))) == 2
    report = subprocess.run([str(BIN / "swift-ocr"), "report", "--results", str(output), "--name", "api", *gt,
                             "--limit", "3", "--output", str(tmp_path / "report.html")], capture_output=True,
                            text=True, env=env(), timeout=240)
    assert report.returncode == 0, report.stderr
    assert (tmp_path / "report.html").stat().st_size > 0


def test_request_is_what_swift_infer_sends(tmp_path, shared_data):
    """ms-swift's server turns the OpenAI content parts back into <image> tags and images
    (StdTemplateInputs.remove_messages_media): the result is the row swift infer would feed its template."""
    from swift.template.template_inputs import StdTemplateInputs

    from swift_ocr.eval.api_infer import request_messages

    rows = read_jsonl(convert(shared_data, tmp_path, "icdar2015"))
    rows.append({"messages": [{"role": "system", "content": "You read receipts."},
                              {"role": "user", "content": "Read <image> and then <image> please"},
                              {"role": "assistant", "content": "A B"}], "images": ["/a.jpg", "/b.jpg"]})
    for row in rows:
        messages, labels = request_messages(row)
        assert labels == row["messages"][-1]["content"]
        media = StdTemplateInputs.remove_messages_media(messages)
        assert messages == row["messages"][:-1]
        assert media["images"] == row["images"]


def test_base_url_and_argument_errors(tmp_path):
    from swift_ocr.eval.api_infer import normalize_base_url

    assert normalize_base_url("http://127.0.0.1:8000") == "http://127.0.0.1:8000/v1"
    assert normalize_base_url("http://127.0.0.1:8000/v1/") == "http://127.0.0.1:8000/v1"
    assert normalize_base_url("https://h.example/api/v1/chat/completions") == "https://h.example/api/v1"
    with pytest.raises(ValueError):
        normalize_base_url("127.0.0.1:8000")
    base = [str(BIN / "swift-ocr"), "eval", "rec"]
    for extra, message in ((["--results", "r.jsonl", "--api", "http://127.0.0.1:9"], "either --results"),
                           ([], "either --results"),
                           (["--api", "http://127.0.0.1:9"], "--api needs --dataset"),
                           (["--api", "http://127.0.0.1:9", "--dataset", "d.jsonl", "--concurrency", "0"],
                            "--concurrency must be at least 1")):
        proc = subprocess.run(base + extra, capture_output=True, text=True, env=env(), timeout=60, cwd=tmp_path)
        assert proc.returncode == 2 and message in proc.stderr, proc.stderr
    assert not list(tmp_path.iterdir())  # nothing written
