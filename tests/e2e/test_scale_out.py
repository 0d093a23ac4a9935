"""Scale-out for real, on the CPU and the loopback interface: the recipes started with several processes
(``NPROC_PER_NODE=2``: ms-swift's launcher runs torchrun, ranks talk over gloo) and as two "nodes" on one machine
(``NNODES=2 NODE_RANK=0|1 MASTER_ADDR=127.0.0.1``), training straight from a raw ICDAR 2015 folder through the
swift-ocr plugin (``swift-ocr/icdar:``), then data-parallel ``swift infer``.

What each rank trained on comes from the plugin's ``--callbacks swift_ocr_seen`` record (one file per rank,
swift_ocr/msswift/callbacks.py), compared with the targets ``swift-ocr convert`` writes for the same folder. Which
items are rejected is read from the raw label files (an image whose regions are all ``###``). The models are TINY
RANDOM UNTRAINED ones (``swift-ocr tiny-model``): only the plumbing is checked, never OCR quality.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
GOT = REPO / "recipes" / "got_ocr2"
INTERNVL = REPO / "recipes" / "internvl2_8b"
# 2 images whose regions are all ### (rejected) and 4 usable ones: 2 optimizer steps per rank at batch 1
IMAGES = (1, 2, 4, 5, 6, 7)
TIMEOUT = 600
# the CPU settings of a multi-process run (recipes/common.sh); DDP_BACKEND=gloo is left to the recipes to choose
CPU = {"CUDA_VISIBLE_DEVICES": "", "DEEPSPEED": "none", "TORCH_DTYPE": "float32", "OMP_NUM_THREADS": "1",
       "GRAD_ACC": "1", "BATCH_SIZE": "1", "NUM_WORKERS": "0", "LOGGING_STEPS": "1", "REPORT_TO": "none",
       "SAVE_STEPS": "100"}


def _env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("NPROC_PER_NODE", "NNODES", "NODE_RANK", "MASTER_ADDR", "MASTER_PORT", "DDP_BACKEND",
                        "SWIFT_OCR_SEEN_LOG", "SWIFT_OCR_REJECTS", "EXTRA_ARGS", "DATASET", "VAL_DATASET")}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false", SWIFT=str(BIN / "swift"),
               PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    env.update({k: str(v) for k, v in extra.items()})
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Launches:
    """Recipes started in their own process group, logs in files; every group still alive is killed at teardown."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.procs = []

    def start(self, script: Path, name: str, **env):
        out, err = self.folder / f"{name}.out", self.folder / f"{name}.err"
        with open(out, "w") as o, open(err, "w") as e:
            proc = subprocess.Popen(["bash", str(script)], env=_env(**env), cwd=self.folder, stdout=o, stderr=e,
                                    start_new_session=True)
        self.procs.append(proc)
        return proc, out, err

    def wait(self, launched, timeout: int = TIMEOUT):
        """``(stdout, stderr)`` of a started recipe; fails (after killing its group) on a timeout or exit status."""
        proc, out, err = launched
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill(proc)
        stdout, stderr = out.read_text(), err.read_text()
        assert proc.returncode == 0, f"{out.name[:-4]} exited {proc.returncode}:\n{stdout[-3000:]}\n{stderr[-6000:]}"
        return stdout, stderr

    def run(self, script: Path, name: str, **env):
        return self.wait(self.start(script, name, **env))

    @staticmethod
    def kill(proc):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()

    def close(self):
        for proc in self.procs:
            if proc.poll() is None:
                self.kill(proc)


@pytest.fixture
def launches(tmp_path):
    runs = Launches(tmp_path)
    yield runs
    runs.close()


def last_value(stdout: str, key: str) -> str:
    values = [line.split("=", 1)[1] for line in stdout.splitlines() if line.startswith(f"{key}=")]
    assert values, f"no {key}= line in:\n{stdout[-2000:]}"
    return values[-1]


def command_line(stdout: str) -> str:
    lines = [line for line in stdout.splitlines() if line.startswith("+ ")]
    assert len(lines) == 1, stdout[-2000:]
    return lines[0]


@pytest.fixture(scope="module")
def icdar(shared_data, tmp_path_factory):
    """A raw ICDAR 2015 folder (imgs/ + gts/) with 6 of the real images, and the label files of the ones whose regions
    are all ``###`` (the rejects to expect), read straight from the raw files."""
    root = tmp_path_factory.mktemp("icdar") / "icdar2015"
    (root / "imgs").mkdir(parents=True)
    (root / "gts").mkdir()
    rejected = set()
    for i in IMAGES:
        shutil.copy(shared_data / "icdar2015" / "imgs" / f"img_{i}.jpg", root / "imgs")
        gt = shutil.copy(shared_data / "icdar2015" / "gts" / f"gt_img_{i}.txt", root / "gts")
        texts = [ln.split(",", 8)[8].strip() for ln in Path(gt).read_text(encoding="utf-8-sig").splitlines()
                 if ln.strip()]
        if all(t == "###" for t in texts):
            rejected.add(str(Path(gt)))
    assert 0 < len(rejected) < len(IMAGES)
    return root, rejected


def converted(icdar_root: Path, task: str, family: str, folder: Path) -> Path:
    """``swift-ocr convert`` of the folder: the same samples the plugin's loader makes (its targets are what the
    ranks must have trained on)."""
    out = folder / f"{task}-{family}.jsonl"
    subprocess.run([str(BIN / "swift-ocr"), "convert", "--format", "icdar", "--input", str(icdar_root), "--task", task,
                    "--model-family", family, "--output", str(out), "--json"], env=_env(), check=True,
                   capture_output=True)
    return out


def targets(jsonl: Path) -> list:
    return [json.loads(line)["messages"][-1]["content"] for line in jsonl.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    made = {}
    for arch in ("internvl_hf", "got_ocr2_hf"):
        made[arch] = folder / f"tiny-random-untrained-{arch}"
        subprocess.run([str(BIN / "swift-ocr"), "tiny-model", "--arch", arch, "--output", str(made[arch])],
                       env=_env(), check=True, capture_output=True)
    return made


@pytest.fixture(scope="module")
def plugin():
    return subprocess.run([str(BIN / "swift-ocr"), "plugin-path"], env=_env(), check=True, capture_output=True,
                          text=True).stdout.strip()


DDP = "accelerate distributed_type MULTI_CPU, model wrapped as DistributedDataParallel"  # logged by swift_ocr_seen


def seen_by_rank(folder: Path, world_size: int) -> dict:
    """``{rank: [row, ...]}`` from the ``swift_ocr_seen`` files: one file per rank, every line a whole JSON row."""
    files = sorted(folder.glob("rank*.jsonl"))
    assert [f.name for f in files] == [f"rank{r}.jsonl" for r in range(world_size)], files
    seen = {}
    for rank, f in enumerate(files):
        rows = [json.loads(line) for line in f.read_text(encoding="utf-8").splitlines()]
        assert rows and all(row["rank"] == rank and row["world_size"] == world_size for row in rows), rows
        seen[rank] = rows
    return seen


def check_rejects(path: Path, expected: set):
    """Every rejection of the run is in the one rejects file, whole lines, each item once (rank 0 records them: see
    swift_ocr/msswift/datasets.py)."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert all(set(row) == {"source", "line", "kind", "reason"} for row in rows), rows
    assert sorted(row["source"] for row in rows) == sorted(expected)


def spec(root: Path, family: str, task: str, rejects: Path) -> str:
    return f"swift-ocr/icdar:{root}?family={family}&task={task}&rejects={rejects}"


def eval_json(kind: str, result: Path, *extra) -> dict:
    proc = subprocess.run([str(BIN / "swift-ocr"), "eval", kind, "--results", str(result), "--json", *extra],
                          env=_env(), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out.get("predictions", str(result)) == str(result)
    # the scores only: which file was scored (eval det's 'system' / 'predictions') differs between the two runs
    return {k: v for k, v in out.items() if k not in ("system", "predictions")}


def infer_both_ways(launches, script: Path, name: str, val: Path, **env):
    """The recipe's ``swift infer`` in one process and with ``NPROC_PER_NODE=2``: both result files."""
    results = {}
    for nproc in (1, 2):
        extra = {"NPROC_PER_NODE": 2, "MASTER_PORT": free_port()} if nproc == 2 else {}
        stdout, stderr = launches.run(script, f"{name}-infer{nproc}", VAL_DATASET=val, MAX_NEW_TOKENS=8,
                                      RESULT_PATH=launches.folder / f"{name}-result{nproc}.jsonl", **CPU, **env,
                                      **extra)
        if nproc == 2:
            assert "world_size: 2" in stderr
        results[nproc] = Path(last_value(stdout, "RESULT_PATH"))
    rows = {n: [json.loads(line) for line in p.read_text(encoding="utf-8").splitlines()] for n, p in results.items()}
    key = lambda row: (row["images"][0]["path"] if isinstance(row["images"][0], dict) else row["images"][0])  # noqa
    assert sorted(map(key, rows[2])) == sorted(map(key, rows[1])) == sorted(
        json.loads(line)["images"][0] for line in val.read_text(encoding="utf-8").splitlines())
    # same model, greedy decoding: each image gets the same answer whichever rank ran it
    assert {key(r): r["response"] for r in rows[2]} == {key(r): r["response"] for r in rows[1]}
    return results


def test_got_data_parallel_training_from_raw_icdar_merge_and_parallel_inference(launches, icdar, models, plugin,
                                                                                tmp_path):
    root, rejected = icdar
    rejects = tmp_path / "rejects.jsonl"
    expected = targets(converted(root, "rec", "got", tmp_path))
    assert len(expected) == len(IMAGES) - len(rejected)
    stdout, stderr = launches.run(
        GOT / "sft_lora.sh", "got-sft", NPROC_PER_NODE=2, MASTER_PORT=free_port(), MODEL=models["got_ocr2_hf"],
        DATASET=spec(root, "got", "rec", rejects), CUSTOM_REGISTER_PATH=plugin, OUTPUT_DIR=tmp_path / "sft",
        MAX_LENGTH=2048, EXTRA_ARGS="--callbacks swift_ocr_seen", **CPU)
    assert "--ddp_backend gloo" in command_line(stdout) and "--deepspeed" not in command_line(stdout)
    assert "world_size: 2" in stderr and DDP in stderr
    run_dir = Path(last_value(stdout, "RUN_DIR"))
    seen = seen_by_rank(run_dir / "swift_ocr_seen", 2)
    # one epoch: every sample reached exactly one rank, and the ranks split the epoch evenly
    assert Counter(row["target"] for rows in seen.values() for row in rows) == Counter(expected)
    assert [len(rows) for rows in seen.values()] == [len(expected) // 2] * 2
    assert {row["step"] for row in seen[0]} == {1, 2}
    check_rejects(rejects, rejected)

    checkpoint = Path(last_value(stdout, "CHECKPOINT"))
    assert checkpoint == run_dir / "checkpoint-2"
    merged = Path(last_value(launches.run(GOT / "merge.sh", "got-merge", ADAPTERS=checkpoint)[0], "MERGED"))
    val = converted(root, "rec", "got", tmp_path / "val")
    results = infer_both_ways(launches, GOT / "infer.sh", "got", val, MODEL=merged)
    scores = {n: eval_json("rec", p, "--per-sample", str(tmp_path / f"per{n}.jsonl")) for n, p in results.items()}
    assert scores[1] == scores[2] and scores[1]["n"] == len(expected)
    per = {n: sorted(json.loads(line)["ref"] for line in open(tmp_path / f"per{n}.jsonl", encoding="utf-8"))
           for n in results}
    assert per[1] == per[2]


def test_internvl_det_data_parallel_training_and_parallel_inference(launches, icdar, models, tmp_path):
    root, rejected = icdar
    rejects = tmp_path / "rejects.jsonl"
    val = converted(root, "det", "internvl", tmp_path)
    expected = targets(val)
    stdout, stderr = launches.run(
        INTERNVL / "sft_lora_det.sh", "ivl-sft", NPROC_PER_NODE=2, MASTER_PORT=free_port(), MODEL=models["internvl_hf"],
        MODEL_TYPE="internvl", TEMPLATE="internvl_hf_ocr_det", DATASET=spec(root, "internvl", "det", rejects),
        OUTPUT_DIR=tmp_path / "sft", EXTRA_ARGS="--callbacks swift_ocr_seen", **CPU)
    assert "--ddp_backend gloo" in command_line(stdout) and "world_size: 2" in stderr
    assert DDP in stderr  # gradients are all-reduced: one model, not two
    run_dir = Path(last_value(stdout, "RUN_DIR"))
    seen = seen_by_rank(run_dir / "swift_ocr_seen", 2)
    assert Counter(row["target"] for rows in seen.values() for row in rows) == Counter(expected)
    assert [len(rows) for rows in seen.values()] == [len(expected) // 2] * 2
    check_rejects(rejects, rejected)

    checkpoint = Path(last_value(stdout, "CHECKPOINT"))
    assert (checkpoint / "adapter_config.json").is_file()
    results = infer_both_ways(launches, INTERNVL / "infer.sh", "ivl", val, ADAPTERS=checkpoint)
    scores = {n: eval_json("det", p, "--model-family", "internvl") for n, p in results.items()}
    assert scores[1] == scores[2] and scores[1]["n_rows"] == len(expected)


def test_streaming_with_two_ranks(launches, icdar, models, plugin, tmp_path):
    root, rejected = icdar
    rejects = tmp_path / "rejects.jsonl"
    expected = targets(converted(root, "rec", "got", tmp_path))
    stdout, stderr = launches.run(
        GOT / "sft_lora.sh", "stream-sft", NPROC_PER_NODE=2, MASTER_PORT=free_port(), MODEL=models["got_ocr2_hf"],
        DATASET=spec(root, "got", "rec", rejects), CUSTOM_REGISTER_PATH=plugin, OUTPUT_DIR=tmp_path / "sft",
        MAX_LENGTH=2048, STREAMING="true", MAX_STEPS=2, EXTRA_ARGS="--callbacks swift_ocr_seen", **CPU)
    assert "--streaming true" in command_line(stdout) and "world_size: 2" in stderr and DDP in stderr
    run_dir = Path(last_value(stdout, "RUN_DIR"))
    seen = seen_by_rank(run_dir / "swift_ocr_seen", 2)
    # rank 0 reads the stream and hands every rank its own batches: 2 steps x 2 ranks = the 4 samples, each once
    assert [sorted(row["step"] for row in rows) for rows in seen.values()] == [[1, 2], [1, 2]]
    assert Counter(row["target"] for rows in seen.values() for row in rows) == Counter(expected)
    check_rejects(rejects, rejected)
    assert Path(last_value(stdout, "CHECKPOINT")) == run_dir / "checkpoint-2"


def test_two_nodes_on_one_machine(launches, icdar, models, tmp_path):
    root, rejected = icdar
    rejects = tmp_path / "rejects.jsonl"
    expected = targets(converted(root, "det", "internvl", tmp_path))
    seen_dir = tmp_path / "seen"
    common = dict(NNODES=2, NPROC_PER_NODE=1, MASTER_ADDR="127.0.0.1", MASTER_PORT=free_port(),
                  MODEL=models["internvl_hf"], MODEL_TYPE="internvl", TEMPLATE="internvl_hf_ocr_det",
                  DATASET=spec(root, "internvl", "det", rejects), OUTPUT_DIR=tmp_path / "sft",
                  SWIFT_OCR_SEEN_LOG=seen_dir, EXTRA_ARGS="--callbacks swift_ocr_seen", **CPU)
    nodes = [launches.start(INTERNVL / "sft_lora_det.sh", f"node{rank}", NODE_RANK=rank, **common)
             for rank in (0, 1)]
    (out0, err0), (out1, err1) = [launches.wait(node) for node in nodes]
    assert "NNODES=2" in command_line(out0) and "NODE_RANK=1" in command_line(out1)
    assert "world_size: 2" in err0 and DDP in err0 and "--ddp_backend gloo" in command_line(out1)
    # one checkpoint, reported by NODE_RANK 0 only
    checkpoint = Path(last_value(out0, "CHECKPOINT"))
    assert "CHECKPOINT=" not in out1 and "RUN_DIR=" not in out1
    assert sorted((tmp_path / "sft").glob("v*/checkpoint-*")) == [checkpoint]
    assert (checkpoint / "adapter_config.json").is_file()
    seen = seen_by_rank(seen_dir, 2)
    assert Counter(row["target"] for rows in seen.values() for row in rows) == Counter(expected)
    check_rejects(rejects, rejected)
