"""Lesson 04's comparison over seeds: the statistics with hand-computed numbers, and the cache
(``experiments.run_sweep`` with ``compare.run_trial``) trains each (variant, seed, config) once."""

import dataclasses
import json

import numpy as np
import pytest

from gan_course import config, experiments
from gan_course.zoo import compare
from gan_course.zoo.compare import ZooConfig

# Three seeds each. a: 100, 110, 120 (mean 110, std 10); b: 130, 140, 150 (mean 140, std 10);
# c: 115, 125, 135 (mean 125, std 10): a and b do not overlap, a-c and c-b do.
ROWS = [{"name": name, "seed": s, "fid": v} for name, values in
        [("a", (100.0, 110.0, 120.0)), ("b", (130.0, 140.0, 150.0)), ("c", (115.0, 125.0, 135.0))]
        for s, v in enumerate(values)]


def test_summarise_gives_mean_std_and_range():
    out = {r["name"]: r for r in experiments.summarise(ROWS)}
    assert [r["name"] for r in experiments.summarise(ROWS)] == ["a", "b", "c"]  # first-seen order
    assert out["b"]["fid_mean"] == pytest.approx(140.0) and out["b"]["fid_std"] == pytest.approx(10.0)
    assert (out["c"]["fid_min"], out["c"]["fid_max"], out["c"]["n"]) == (115.0, 135.0, 3)


def test_pairwise_differences_call_only_non_overlapping_ranges_separated():
    pairs = experiments.pairwise_differences(experiments.summarise(ROWS))
    by_pair = {(p["low"], p["high"]): p for p in pairs}
    assert set(by_pair) == {("a", "c"), ("a", "b"), ("c", "b")}  # lower mean first
    assert by_pair["a", "b"]["difference"] == pytest.approx(30.0)
    assert by_pair["a", "b"]["gap"] == pytest.approx(10.0) and by_pair["a", "b"]["separated"]
    # a's best 100 beats c's worst... but c's best 115 beats a's worst 120: the ranges overlap.
    assert by_pair["a", "c"]["gap"] == pytest.approx(-5.0) and not by_pair["a", "c"]["separated"]
    assert by_pair["c", "b"]["difference"] == pytest.approx(15.0) and not by_pair["c", "b"]["separated"]
    # Ranges that only touch are not separated: one seed of each scored the same.
    touching = [{"name": "x", "fid": 1.0}, {"name": "x", "fid": 2.0}, {"name": "y", "fid": 2.0}, {"name": "y", "fid": 3.0}]
    assert not experiments.pairwise_differences(experiments.summarise(touching))[0]["separated"]


def test_seed_table_prints_mean_std_and_range():
    rows = [dict(r, g_updates=10, real_images_seen=640) for r in ROWS]
    table = compare.seed_table(rows, scores=("fid",))
    lines = table.splitlines()
    assert lines[0] == "| variant | seeds | classifier FID mean ± std [min–max] | G updates | real images seen |"
    assert lines[2] == "| a | 3 | 110.0 ± 10.0 [100.0–120.0] | 10 | 640 |"
    one_seed = compare.seed_table([dict(rows[0])], scores=("fid",)).splitlines()[2]
    assert one_seed == "| a | 1 | 100.0 ± – [100.0–100.0] | 10 | 640 |"  # no spread from one run


def test_config_adds_only_its_own_fields():
    base = ZooConfig("hinge", seed=0, steps=4)
    # The run's settings are config.RunConfig's (tests/test_config.py); the zoo adds its networks.
    assert set(config.field_names(ZooConfig)) - set(config.field_names()) == {"backbone", "norm", "n_critic"}
    changed = {"name": "lsgan", "backbone": "mlp", "norm": None, "n_critic": 2}
    keys = {base.key()} | {base.replace(**{k: v}).key() for k, v in changed.items()}
    assert len(keys) == 1 + len(changed)
    assert base.variant == "hinge" and base.replace("lsgan").variant == "lsgan"
    assert compare.trial_stem(base) != compare.trial_stem(base.replace(steps=5))
    with pytest.raises(ValueError, match="choose from"):
        ZooConfig("stylegan", steps=4)
    with pytest.raises(ValueError, match="backbone"):
        ZooConfig("hinge", steps=4, backbone="resnet")
    with pytest.raises(ValueError, match="norm"):
        ZooConfig("hinge", steps=4, norm="batch")  # batch norm would break the gradient penalty's per-sample scores
    with pytest.raises(ValueError, match="needs a budget"):
        ZooConfig("hinge")


def test_sweep_cache_trains_each_row_once(tmp_path):
    trained = []

    def fake_trial(cfg, train, test, samples_dir=None, models_dir=None):
        trained.append((cfg.variant, cfg.seed, cfg.steps))
        return {**cfg.as_dict(), "name": cfg.name, "fid": 100.0 + cfg.seed, "coverage": 1.0,
                "confident_share": 0.5, "train_seconds": 1.0}

    images = np.zeros((8, 28, 28, 1), "float32")
    results = tmp_path / "zoo.jsonl"
    configs = [ZooConfig(v, seed=s, steps=4) for v in ("hinge", "wgan-gp") for s in (0, 1)]

    def sweep(cfgs):
        return experiments.run_sweep(cfgs, images, images, results, verbose=False, trial=fake_trial)

    rows = sweep(configs)
    assert len(trained) == 4 and [r["name"] for r in rows] == ["hinge", "hinge", "wgan-gp", "wgan-gp"]
    assert sweep(configs) == rows and len(trained) == 4  # the second run trains nothing

    with results.open("a") as f:
        f.write('{"variant": "hinge", "half a line')  # a run killed while writing
    longer = [dataclasses.replace(c, steps=8) for c in configs[:1]]  # a changed budget is a new row
    rows = sweep(configs + longer)
    assert trained[4:] == [("hinge", 0, 8)] and rows[-1]["steps"] == 8
    assert len(experiments.load_results(results)) == 5  # the half line is skipped, never a row
    assert json.loads(results.read_text().splitlines()[-1])["steps"] == 8


def test_a_real_tiny_trial_saves_its_row_samples_and_models(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (40, 28, 28, 1)).astype("float32")
    cfg = ZooConfig("wgan-clip", steps=2, batch_size=4, latent_dim=8, width=4, n_critic=2, eval_samples=20, eager=True)
    row = compare.run_trial(cfg, images, images[:10], samples_dir=tmp_path / "s", models_dir=tmp_path / "m")
    assert row["g_updates"] == 2 and row["real_images_seen"] == 2 * 4 * 2 and not row["diverged"]
    assert row["name"] == "wgan-clip" and row["fid"] > 0 and row["confident_share"] == row["confident"]
    stem = compare.trial_stem(cfg)
    assert np.load(tmp_path / "s" / f"{stem}.npy").shape == (compare.GRID_SIZE, 28, 28, 1)
    import keras

    critic = keras.saving.load_model(tmp_path / "m" / f"{stem}_discriminator.keras")
    assert max(float(np.abs(w).max()) for w in critic.get_weights()) <= 0.01 + 1e-7  # saved after clipping
