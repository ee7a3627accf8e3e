"""Progress during long waits (issue 39): a sweep shows trials done of the total, the running trial's
steps, the time spent and an estimate of what is left; where the output is kept (nbconvert, nbval,
CI, a file) it is a few plain lines, not a redrawn bar."""

import numpy as np
import pytest

from gan_course import experiments, progress
from gan_course.experiments import TrialConfig, variant

TINY = TrialConfig(width=4, latent_dim=8, batch_size=16, epochs=2, max_images=128, eval_samples=50)


@pytest.fixture(scope="module")
def digits():
    from gan_course import data

    return data.load_mnist("train", max_images=128, verbose=False).images, data.load_mnist("test", verbose=False).images[:100]


def test_a_sweep_shows_trials_of_total_steps_and_an_estimate_in_few_lines(digits, tmp_path, monkeypatch, capsys):
    train, test = digits
    results = tmp_path / "rows.jsonl"
    configs = [TINY, variant(TINY, "label smoothing", real_label=0.9), variant(TINY, "seed 1", seed=1)]
    experiments.run_sweep(configs[:1], train, test, results, verbose=False)  # one cached trial
    monkeypatch.delenv("GAN_COURSE_PROGRESS", raising=False)
    monkeypatch.setenv("GAN_COURSE_PROGRESS_INTERVAL", "0.3")  # a line while a (short) trial runs
    assert progress.mode() == "log"  # pytest captures stdout: not a terminal

    experiments.run_sweep(configs, train, test, results)
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert "\r" not in out and "\x1b" not in out, "no redrawn bar in a log"
    assert len(lines) < 50, out
    assert lines[0] == "1 of 3 trials already in rows.jsonl; running 2"
    done = [line for line in lines if line.startswith("[")]
    assert [line.split("]")[0] for line in done] == ["[2/3 trials", "[3/3 trials"], out  # the cached one counts
    assert "label smoothing" in done[0] and "FID" in done[0]
    assert " elapsed, about " in done[0] and done[0].endswith(" left"), done[0]
    running = [line for line in lines if "trials done, now" in line]
    assert running, f"no line while a trial ran:\n{out}"
    assert any(f"step " in line and f"/{2 * 128 // 16}" in line for line in running), running  # 16 steps a trial
    assert all(" elapsed" in line for line in running)


def test_default_interval_keeps_a_short_sweep_to_one_line_per_trial(digits, tmp_path, monkeypatch, capsys):
    train, test = digits
    # "Short" by the progress clock, whatever the machine: a trial of these tiny runs took 33 s on a
    # busy 2-core machine, past the 30-s interval, and printed a "still running" line.
    clock = FakeClock(tick=0.01)
    monkeypatch.setattr(progress, "_clock", clock)
    monkeypatch.delenv("GAN_COURSE_PROGRESS", raising=False)
    monkeypatch.delenv("GAN_COURSE_PROGRESS_INTERVAL", raising=False)
    configs = [TINY, variant(TINY, "seed 1", seed=1)]
    experiments.run_sweep(configs, digits[0], digits[1], tmp_path / "rows.jsonl")
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("]")[0] for line in lines[1:]] == ["[1/2 trials", "[2/2 trials"], lines


class FakeClock:
    """The progress clock, moved by hand (``now``) or by ``tick`` seconds at every reading."""

    def __init__(self, tick=0.0):
        self.now, self.tick = 0.0, tick

    def __call__(self):
        self.now += self.tick
        return self.now


def test_an_hour_long_sweep_logs_about_sixty_lines(monkeypatch, capsys):
    clock = FakeClock()
    monkeypatch.setattr(progress, "_clock", clock)
    monkeypatch.delenv("GAN_COURSE_PROGRESS_INTERVAL", raising=False)
    with progress.Progress(4, unit="trial", done=1, mode="log") as bar:  # one cached trial
        for trial in range(3):
            bar.start(f"trial {trial}")
            for step in range(1, 1201):  # 20 minutes a trial
                clock.now += 1.0
                bar.step(step, 1200)
            bar.finish(f"trial {trial}: done")
    lines = capsys.readouterr().out.splitlines()
    assert 20 <= len(lines) <= 70, len(lines)
    assert lines[-1].startswith("[4/4 trials] trial 2: done | 1:00:00 elapsed")
    halfway = [line for line in lines if line.startswith("1/4 trials done, now trial 0: step 600/1200")]
    assert halfway == ["1/4 trials done, now trial 0: step 600/1200 | 10:00 elapsed, about 50:00 left"]


def test_cached_items_finish_at_once_and_stay_out_of_the_estimate(monkeypatch, capsys):
    clock = FakeClock()
    monkeypatch.setattr(progress, "_clock", clock)
    with progress.Progress(4, unit="lesson", desc="lessons", mode="log") as bar:
        bar.start("00_a", announce=True)
        bar.finish("00_a: cached", cached=True)
        bar.start("01_b", announce=True)
        clock.now += 60
        bar.finish("01_b: ran")
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "lessons: lesson 1/4: 00_a ... | 0:00 elapsed"
    assert lines[-1] == "[2/4 lessons] 01_b: ran | 1:00 elapsed, about 2:00 left"  # 60 s a lesson that ran


def test_mode_follows_the_setting_the_terminal_and_the_kernels_parent(monkeypatch):
    class Stream:
        def __init__(self, tty):
            self.tty = tty

        def isatty(self):
            return self.tty

    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("GAN_COURSE_PROGRESS", raising=False)
    monkeypatch.setattr(progress, "_kernel", lambda: False)
    assert progress.mode(Stream(True)) == "live" and progress.mode(Stream(False)) == "log"
    monkeypatch.setattr(progress, "_kernel", lambda: True)
    monkeypatch.setattr(progress, "_parent_command", lambda: "/usr/bin/python -m jupyterlab")
    assert progress.mode(Stream(False)) == "live"  # a notebook open in JupyterLab: the widget
    for parent in ("python -m pytest --nbval-lax notebooks", "jupyter-nbconvert --execute x.ipynb", "papermill a b"):
        monkeypatch.setattr(progress, "_parent_command", lambda parent=parent: parent)
        assert progress.mode(Stream(False)) == "log", parent
    monkeypatch.setenv("GAN_COURSE_PROGRESS", "off")
    assert progress.mode(Stream(True)) == "off"
    monkeypatch.setenv("GAN_COURSE_PROGRESS", "auto")
    monkeypatch.setenv("CI", "true")
    assert progress.mode(Stream(True)) == "log"


def test_a_standalone_fit_is_silent_when_short_and_logs_steps_when_long(monkeypatch, capsys):
    import keras

    from gan_course.callbacks import FitProgress

    monkeypatch.setenv("GAN_COURSE_PROGRESS", "log")
    net = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    net.compile(optimizer="sgd", loss="mse")
    x, y = np.zeros((64, 3), "float32"), np.zeros((64, 1), "float32")
    net.fit(x, y, epochs=2, batch_size=8, verbose=0, callbacks=[FitProgress("tiny")])
    assert capsys.readouterr().out == ""  # shorter than the log interval: nothing
    monkeypatch.setenv("GAN_COURSE_PROGRESS_INTERVAL", "0")
    net.fit(x, y, epochs=2, batch_size=8, verbose=0, callbacks=[FitProgress("tiny")])
    lines = capsys.readouterr().out.splitlines()
    assert lines and lines[-1].startswith("tiny: 16/16 steps (loss "), lines


def test_the_progress_module_is_not_part_of_the_sweep_cache_key():
    modules, _ = experiments.code_modules(experiments.run_trial)
    assert "gan_course.gan" in modules and "gan_course.progress" not in modules


def test_track_walks_a_list_with_items_done_and_an_estimate(monkeypatch, capsys):
    clock = {"now": 0.0}
    monkeypatch.setattr(progress, "_clock", lambda: clock["now"])
    monkeypatch.setenv("GAN_COURSE_PROGRESS", "log")
    monkeypatch.delenv("GAN_COURSE_PROGRESS_INTERVAL", raising=False)
    seen = []
    for item in progress.track({"real": 1, "untrained": 2, "trained": 3}.items(), "scoring", unit="set"):
        seen.append(item[0])
        clock["now"] += 40.0  # each set takes 40 s: a line after each, with what is left
    assert seen == ["real", "untrained", "trained"]
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "scoring: 1/3 sets | 0:40 elapsed, about 1:20 left", lines
    assert lines[-1] == "scoring: 3/3 sets | 2:00 elapsed" and len(lines) == 3, lines
    assert progress.active() is None, "the bar is closed after the loop"
