"""recipes/*/serve.sh (`swift deploy`) + `swift-ocr eval rec --api` against `swift infer` on the same rows (CPU).

A TINY RANDOM UNTRAINED GOT-OCR2 serves on 127.0.0.1; its answers are garbage, but greedy decoding with the same
max_tokens must give the same answers (and so the same scores) over the API as `swift infer` gives on the same rows.
"""
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
MAX_TOKENS = "12"


def env(extra=None):
    return {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
            "SWIFT": str(BIN / "swift"), "PATH": f"{BIN}:{os.environ['PATH']}", **(extra or {})}


def run(cmd, extra=None, cwd=None, timeout=600):
    proc = subprocess.run(cmd, env=env(extra), cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{cmd} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"
    return proc


def free_port():
    with socket.socket() as s:
        s.bind(("", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("script,family_model", [("got_ocr2/serve.sh", "GOT-OCR-2.0-hf"),
                                                 ("internvl2_8b/serve.sh", "InternVL2-8B")])
def test_serve_dry_run_parses_with_ms_swift(tmp_path, script, family_model):
    """DRY_RUN prints a `swift deploy` line that ms-swift's own DeployArguments parser accepts."""
    from transformers import HfArgumentParser

    import swift.arguments as swift_args
    from swift.utils import utils as swift_utils

    keep = {k: v for k, v in os.environ.items() if k not in ("MODEL", "ADAPTERS", "PORT", "HOST", "MAX_NUM")}
    proc = subprocess.run(["bash", str(REPO / "recipes" / script)], env={**keep, "DRY_RUN": "1", "SWIFT": "swift",
                                                                        "PORT": "8123", "INFER_BACKEND": "vllm"},
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    words = shlex.split(next(ln for ln in proc.stdout.splitlines() if ln.startswith("+ "))[2:])
    while "=" in words[0]:
        words.pop(0)
    assert words[:2] == ["swift", "deploy"]
    with swift_utils._patch_get_type_hints():
        parser = HfArgumentParser([swift_args.DeployArguments])
    ns, rest = parser.parse_known_args(words[2:])
    assert rest == []
    assert (ns.host, ns.port, ns.infer_backend, ns.served_model_name) == ("127.0.0.1", 8123, "vllm", family_model)
    assert ns.temperature == 0 and ns.max_new_tokens == 4096


def test_deploy_and_eval_api_equal_swift_infer(tmp_path, shared_data):
    model = tmp_path / "tiny-random-untrained-got_ocr2_hf"
    run([str(BIN / "swift-ocr"), "tiny-model", "--arch", "got_ocr2_hf", "--output", str(model)])
    data = tmp_path / "sroie.jsonl"
    run([str(BIN / "swift-ocr"), "convert", "--format", "icdar", "--images", str(shared_data / "sroie/img"),
         "--labels", str(shared_data / "sroie/box"), "--task", "rec", "--model-family", "got",
         "--val-ratio", "0.15", "--seed", "3", "--output", str(data)])
    val = tmp_path / "sroie.val.jsonl"
    n_rows = len(val.read_text(encoding="utf-8").splitlines())
    assert n_rows == 3

    port = free_port()
    server = subprocess.Popen(["bash", str(REPO / "recipes/got_ocr2/serve.sh")], cwd=tmp_path, text=True,
                              stdout=subprocess.PIPE, stderr=open(tmp_path / "deploy.log", "w"),
                              env=env({"MODEL": str(model), "PORT": str(port), "READY_TIMEOUT": "400",
                                       "SERVED_MODEL_NAME": "tiny-got"}),
                              start_new_session=True)
    try:
        # swift infer on the same rows while the server loads (same model, greedy, same max tokens)
        infer = run(["bash", str(REPO / "recipes/got_ocr2/infer.sh")], cwd=tmp_path, extra={
            "MODEL": str(model), "VAL_DATASET": str(val), "RESULT_PATH": str(tmp_path / "infer.jsonl"),
            "MAX_NEW_TOKENS": MAX_TOKENS})
        assert infer.stdout.splitlines()[-1] == f"RESULT_PATH={tmp_path / 'infer.jsonl'}"

        ready = {}
        deadline = time.monotonic() + 420
        while len(ready) < 2:
            line = server.stdout.readline()
            assert line, f"serve.sh ended: {(tmp_path / 'deploy.log').read_text()[-4000:]}"
            if "=" in line and line.split("=", 1)[0] in ("URL", "MODEL"):
                key, value = line.rstrip("\n").split("=", 1)
                ready[key] = value
            assert time.monotonic() < deadline
        assert ready == {"URL": f"http://127.0.0.1:{port}/v1", "MODEL": "tiny-got"}

        api = run([str(BIN / "swift-ocr"), "eval", "rec", "--api", ready["URL"], "--dataset", str(val),
                   "--output", str(tmp_path / "api.jsonl"), "--max-tokens", MAX_TOKENS, "--concurrency", "1",
                   "--timeout", "300", "--no-progress", "--json", "--per-sample", str(tmp_path / "api_samples.jsonl")],
                  cwd=tmp_path)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(timeout=30)

    ref = run([str(BIN / "swift-ocr"), "eval", "rec", "--results", str(tmp_path / "infer.jsonl"), "--json",
               "--per-sample", str(tmp_path / "infer_samples.jsonl")])
    api_payload = json.loads(api.stdout)
    report = api_payload.pop("api")
    assert (report["answered"], report["failed"], report["model"]) == (n_rows, 0, "tiny-got")
    assert api_payload == json.loads(ref.stdout)  # the same scores
    infer_rows = [json.loads(line) for line in open(tmp_path / "infer.jsonl", encoding="utf-8")]
    api_rows = [json.loads(line) for line in open(tmp_path / "api.jsonl", encoding="utf-8")]
    # row by row: the same answer to the same row, and the same row shape as swift infer writes
    assert [r["response"] for r in api_rows] == [r["response"] for r in infer_rows]
    assert all(r["response"] for r in api_rows)  # the model answered something (garbage, but not nothing)
    for a, b in zip(api_rows, infer_rows):
        assert {k: v for k, v in a.items() if k != "swift_ocr_api"} == b
