"""recipes/got_ocr2/sft_lora.sh killed with SIGKILL after its first checkpoint, rerun with RESUME=auto: the run goes on
from that checkpoint in the same run folder and ends at the planned step count, with one continuous logging.jsonl
(every step logged once). Real ms-swift on CPU with a TINY RANDOM UNTRAINED GOT-OCR2 (training quality is not
checked)."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SFT = REPO / "recipes" / "got_ocr2" / "sft_lora.sh"
MAX_STEPS, SAVE_STEPS = 8, 3


def env(extra):
    return {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
            "SWIFT": str(BIN / "swift"), "PATH": f"{BIN}:{os.environ['PATH']}", **extra}


def last_value(stdout, key):
    values = [line.split("=", 1)[1] for line in stdout.splitlines() if line.startswith(f"{key}=")]
    assert values, stdout[-2000:]
    return values[-1]


def logged_steps(log):
    """The steps of the training records of a logging.jsonl, in file order (a line cut off by a kill is skipped)."""
    steps = []
    for line in log.read_bytes().split(b"\n")[:-1]:
        record = json.loads(line)
        if "global_step/max_steps" in record and "loss" in record:
            done, total = map(int, record["global_step/max_steps"].split("/"))
            assert total == MAX_STEPS
            steps.append(done)
    return steps


def _steps_so_far(log):
    """Steps logged so far in a logging.jsonl being written (an incomplete last line is skipped)."""
    steps = [0]
    for line in log.read_bytes().split(b"\n")[:-1]:
        try:
            steps.append(int(json.loads(line)["global_step/max_steps"].split("/")[0]))
        except (ValueError, KeyError):
            pass
    return steps


def test_sigkill_then_resume_auto(tmp_path, shared_data):
    model = tmp_path / "tiny-random-untrained-got_ocr2_hf"
    subprocess.run([str(BIN / "swift-ocr"), "tiny-model", "--arch", "got_ocr2_hf", "--output", str(model)],
                   check=True, capture_output=True, env=env({}), timeout=300)
    data = tmp_path / "sroie.jsonl"
    subprocess.run([str(BIN / "swift-ocr"), "convert", "--format", "icdar", "--images", str(shared_data / "sroie/img"),
                    "--labels", str(shared_data / "sroie/box"), "--task", "rec", "--model-family", "got",
                    "--output", str(data)], check=True, capture_output=True, env=env({}), timeout=120)
    out = tmp_path / "sft"
    settings = {"MODEL": str(model), "DATASET": str(data), "OUTPUT_DIR": str(out), "TORCH_DTYPE": "float32",
                "MAX_STEPS": str(MAX_STEPS), "SAVE_STEPS": str(SAVE_STEPS), "SAVE_TOTAL_LIMIT": "10",
                "LOGGING_STEPS": "1", "BATCH_SIZE": "1", "GRAD_ACC": "1", "NUM_WORKERS": "0", "MAX_LENGTH": "2048",
                "REPORT_TO": "none", "RESUME": ""}

    first = subprocess.Popen(["bash", str(SFT)], cwd=tmp_path, env=env(settings), stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 600
        # killed once the first checkpoint is complete and a later step is logged (that record must not stay in the
        # log: the resumed run trains that step again)
        while not (list(out.glob(f"v*-*/checkpoint-{SAVE_STEPS}/trainer_state.json"))
                   and any(SAVE_STEPS in _steps_so_far(p) for p in out.glob("v*-*/logging.jsonl"))
                   and any(max(_steps_so_far(p)) > SAVE_STEPS for p in out.glob("v*-*/logging.jsonl"))):
            assert first.poll() is None, first.communicate()[0][-4000:]
            assert time.monotonic() < deadline, "no first checkpoint"
            time.sleep(0.05)
    finally:
        os.killpg(first.pid, signal.SIGKILL)  # the recipe, ms-swift's launcher and the training process
        first.communicate(timeout=60)
    (run_dir,) = out.glob("v*-*")
    log = run_dir / "logging.jsonl"
    assert not (run_dir / f"checkpoint-{MAX_STEPS}").exists()  # killed mid-run
    assert "last_model_checkpoint" not in log.read_text(encoding="utf-8")
    steps_before = logged_steps(log)
    # the latest complete checkpoint at the time of the kill (transformers writes trainer_state.json last)
    resume_from = max((p.parent for p in run_dir.glob("checkpoint-*/trainer_state.json")),
                      key=lambda p: int(p.name.split("-")[1]))
    resume_step = json.loads((resume_from / "trainer_state.json").read_text())["global_step"]
    assert resume_from.name == f"checkpoint-{resume_step}" and resume_step < MAX_STEPS
    assert max(steps_before) > resume_step  # steps after the checkpoint were logged before the kill
    assert steps_before[:SAVE_STEPS] == list(range(1, SAVE_STEPS + 1))

    resumed = subprocess.run(["bash", str(SFT)], cwd=tmp_path, env=env({**settings, "RESUME": "auto"}),
                             capture_output=True, text=True, timeout=900)
    assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-6000:]
    assert f"resuming from {resume_from} (step {resume_step})" in resumed.stderr
    assert f"--resume_from_checkpoint {resume_from}" in resumed.stdout
    assert f"--output_dir {run_dir} --add_version false" in resumed.stdout
    # the same run folder, ended at the planned step count
    assert [p.name for p in out.iterdir()] == [run_dir.name]
    assert Path(last_value(resumed.stdout, "RUN_DIR")) == run_dir
    checkpoint = Path(last_value(resumed.stdout, "CHECKPOINT"))
    assert checkpoint == run_dir / f"checkpoint-{MAX_STEPS}"
    state = json.loads((checkpoint / "trainer_state.json").read_text())
    assert (state["global_step"], state["max_steps"]) == (MAX_STEPS, MAX_STEPS)
    # one continuous log: every step once, in order, then ms-swift's final record naming the last checkpoint
    assert logged_steps(log) == list(range(1, MAX_STEPS + 1))
    assert logged_steps(run_dir / "logging.jsonl.before-resume") == steps_before  # what the kill left, kept aside
    last = json.loads(log.read_text(encoding="utf-8").splitlines()[-1])
    assert Path(last["last_model_checkpoint"]) == checkpoint
