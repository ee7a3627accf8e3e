"""Train the zoo's unconditional variants on equal terms, over several seeds, and score them the same way.

Equal terms means: the same training digits, the same seed (so every generator starts from
the same weights), the same generator and discriminator (``networks.backbone``: a small conv
pair by default, or the 2014 paper's kind of MLPs), the same batch size for every player
update, and the same **budget of generator updates**. The Wasserstein variants take
``n_critic`` critic updates per generator update, each on fresh real images, as their papers
prescribe: they see more data and cost more time for the same budget, and the table shows
both. Every generator is then scored with ``metrics.score_generator`` on the same samples
count against the same real digits.

One seed gives one ordering, so a comparison is a sweep: one ``ZooConfig`` per (variant, seed),
run by ``experiments.run_sweep(configs, ..., trial=compare.run_trial)``, which caches each
finished row in a JSON-lines file and trains only what is missing. ``seed_table`` turns the
rows into mean +- standard deviation and range per variant.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import time

from gan_course import experiments
from gan_course.config import RunConfig

__all__ = [
    "UNCONDITIONAL_VARIANTS", "COLUMNS", "ZooConfig", "make_variant", "train_variant", "score_variant", "run_trial",
    "trial_stem", "seed_table", "rows_to_markdown",
]

UNCONDITIONAL_VARIANTS = ("vanilla-minimax", "vanilla-nonsat", "lsgan", "hinge", "wgan-clip", "wgan-gp")

COLUMNS = {  # row key -> (table header, format)
    "variant": ("variant", "{}"),
    "fid": ("classifier FID", "{:.1f}"),
    "kid": ("KID", "{:.2f}"),
    "coverage": ("coverage", "{:.1f}"),
    "entropy": ("entropy (nats)", "{:.2f}"),
    "confident": ("confident", "{:.0%}"),
    "g_updates": ("G updates", "{:,}"),
    "real_images_seen": ("real images seen", "{:,}"),
    "wall_s": ("wall time (s)", "{:.0f}"),
    "cpu_s": ("CPU time (s)", "{:.0f}"),
}

GRID_SEED, GRID_SIZE = 12345, 36  # the fixed noise every variant's saved samples are drawn from


@dataclasses.dataclass(frozen=True)
class ZooConfig(RunConfig):
    """One training run of the comparison: a ``config.RunConfig`` whose ``name`` is the variant (one
    of ``UNCONDITIONAL_VARIANTS``), plus the zoo's own networks and critic schedule.

    The zoo trains ``networks.backbone`` pairs, not the DCGAN of ``models``, so of the run's
    settings it uses the name, seed, ``steps`` (the budget: generator updates, required),
    ``batch_size``, ``latent_dim``, ``width``, ``learning_rate`` (Adam for both players of the
    one-step variants; the Wasserstein variants keep their papers' optimizers), ``max_images``,
    ``eval_samples`` and ``eager``.
    """

    backbone: str = "conv"  # see networks.BACKBONES
    norm: str | None = "layer"  # conv discriminator's normalisation (networks.backbone); None: none
    n_critic: int = 5  # critic updates per generator update (Wasserstein variants only)

    def __post_init__(self):
        super().__post_init__()
        from gan_course.zoo import networks

        if self.name not in UNCONDITIONAL_VARIANTS:
            raise ValueError(f"Unknown variant {self.name!r}; choose from {', '.join(UNCONDITIONAL_VARIANTS)}.")
        if self.backbone not in networks.BACKBONES:
            raise ValueError(f"Unknown backbone {self.backbone!r}; choose from {', '.join(networks.BACKBONES)}.")
        if self.norm not in (None, "layer"):
            raise ValueError(f"norm must be None or 'layer', not {self.norm!r}.")
        if self.steps is None:
            raise ValueError(f"ZooConfig {self.name!r} needs a budget: steps=N generator updates "
                             "(every variant of a comparison gets the same).")

    @property
    def variant(self) -> str:
        """The variant trained: the row label (rows of one variant differ by seed)."""
        return self.name


def make_variant(name: str, latent_dim: int, seed: int = 0, n_critic: int = 5, backbone: str = "mlp", width: int = 16,
                 norm: str | None = None, learning_rate: float = 2e-4):
    """A compiled model for one of ``UNCONDITIONAL_VARIANTS`` on ``networks.backbone(backbone, ...)``,
    and the real images per train step.

    ``learning_rate`` is Adam's (beta_1 = 0.5) for both players of the one-step variants; the
    Wasserstein variants keep their papers' optimizers (``wasserstein.WASSERSTEIN_VARIANTS``).
    """
    from gan_course.zoo import networks, vanilla, wasserstein

    if name in vanilla.LOSSES:
        g, d = networks.backbone(backbone, latent_dim, width, norm=norm)
        return vanilla.make_gan(name, latent_dim, seed=seed, generator=g, discriminator=d, learning_rate=learning_rate), 1
    if name in wasserstein.WASSERSTEIN_VARIANTS:
        g, c = networks.backbone(backbone, latent_dim, width, critic=True, norm=norm)
        return wasserstein.make_wgan(name, latent_dim, n_critic=n_critic, seed=seed, generator=g, critic=c), n_critic
    raise ValueError(f"Unknown variant {name!r}; choose from {', '.join(UNCONDITIONAL_VARIANTS)}.")


def train_variant(name: str, images, generator_steps: int, batch_size: int, latent_dim: int, seed: int = 0,
                  n_log: int = 10, jit_compile: bool = True, run_eagerly: bool = False, verbose: int = 0,
                  backbone: str = "mlp", width: int = 16, n_critic: int = 5, norm: str | None = None,
                  learning_rate: float = 2e-4):
    """Build and train one variant for ``generator_steps`` generator updates.

    Returns (model, history dict, wall seconds, CPU seconds of this process). ``n_log`` is how
    many points the history keeps (the steps are split into that many Keras "epochs").
    ``jit_compile`` compiles each train step with XLA; whether that pays for nets this small
    depends on the machine (``python -m gan_course.bench`` times XLA against the default graph).
    ``run_eagerly`` skips building a graph at all, which is faster for a handful of steps
    (tracing costs seconds), slower for thousands.
    """
    import keras
    import tensorflow as tf

    from gan_course import wgan

    keras.utils.set_random_seed(seed)  # same initial weights for every variant
    model, per_step = make_variant(name, latent_dim, seed=seed, n_critic=n_critic, backbone=backbone, width=width,
                                   norm=norm, learning_rate=learning_rate)
    model.jit_compile = jit_compile and not run_eagerly
    model.run_eagerly = run_eagerly
    step_batch = wgan.critic_batch_size(batch_size, per_step)
    if len(images) < step_batch:
        raise ValueError(f"{len(images)} images cannot fill one training step of {step_batch} images "
                         f"({name}); lower batch_size.")
    dataset = (
        tf.data.Dataset.from_tensor_slices(images).cache()
        .shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
        .repeat()  # the budget is counted in steps, not passes over the data
        .batch(step_batch, drop_remainder=True)
        .prefetch(tf.data.AUTOTUNE)
    )
    n_log = max(1, min(n_log, generator_steps))
    start, cpu_start = time.perf_counter(), time.process_time()
    history = model.fit(dataset, epochs=n_log, steps_per_epoch=generator_steps // n_log, verbose=verbose)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    return model, history.history, wall, cpu


def score_variant(name: str, model, history: dict, real_images, batch_size: int, wall_s: float, cpu_s: float,
                  n_eval: int = 1000, seed: int = 0) -> dict:
    """One table row: the variant's sample scores (``metrics.score_generator``), its budget and its time."""
    from gan_course import metrics

    scores = metrics.score_generator(model.generator, real_images, n=n_eval, seed=seed)
    n_log = len(history["g_loss"])
    steps_per_log = model.history.params["steps"] if getattr(model, "history", None) else None
    g_updates = n_log * steps_per_log if steps_per_log else None
    per_step = getattr(model, "n_critic", 1)
    return {
        "variant": name,
        "fid": scores.fid,
        "kid": scores.kid_mean,
        "coverage": scores.coverage,
        "entropy": scores.entropy,
        "confident": scores.confident_share,
        "g_updates": g_updates,
        "real_images_seen": g_updates * batch_size * per_step if g_updates else None,
        "wall_s": wall_s,
        "cpu_s": cpu_s,
        "n_eval": scores.n_samples,
        "n_real": scores.n_real,
    }


def trial_stem(cfg: ZooConfig) -> str:
    """File name stem of one run's saved samples and models: variant, seed and a hash of the
    whole configuration (so files of another budget or backbone never stand in for these)."""
    digest = hashlib.sha1(cfg.key().encode()).hexdigest()[:8]
    return f"{cfg.variant}_seed{cfg.seed}_{digest}"


def run_trial(cfg: ZooConfig, train_images, test_images, samples_dir=None, models_dir=None) -> dict:
    """Train and score one ``ZooConfig``; the trial function for ``experiments.run_sweep``.

    Returns a flat row: the config's fields, the ``score_variant`` scores (with the sweep's
    names ``confident_share``, ``train_seconds``, ``train_cpu_seconds`` besides), the last
    logged losses and ``diverged``. With ``samples_dir``, ``GRID_SIZE`` samples from the fixed
    noise ``GRID_SEED`` are saved as ``<trial_stem>.npy``; with ``models_dir``, the generator
    and the discriminator (critic) as ``<trial_stem>_generator.keras`` / ``_discriminator.keras``.
    """
    images = train_images if cfg.max_images is None else train_images[: cfg.max_images]
    model, history, wall, cpu = train_variant(cfg.variant, images, cfg.steps, cfg.batch_size, cfg.latent_dim,
                                              seed=cfg.seed, run_eagerly=cfg.eager, backbone=cfg.backbone,
                                              width=cfg.width, n_critic=cfg.n_critic, norm=cfg.norm,
                                              learning_rate=cfg.learning_rate)
    row = cfg.as_dict()
    row.update(score_variant(cfg.variant, model, history, test_images, cfg.batch_size, wall, cpu,
                             n_eval=cfg.eval_samples, seed=cfg.seed))
    last = {f"final_{k}": float(v[-1]) for k, v in history.items()}
    row.update(name=cfg.name, confident_share=row["confident"], train_seconds=round(wall, 1),
               train_cpu_seconds=round(cpu, 1), diverged=not all(math.isfinite(v) for v in last.values()), **last)
    experiments.save_trial_outputs(trial_stem(cfg), model.generator, cfg.latent_dim, samples_dir, models_dir,
                                   n_samples=GRID_SIZE, noise_seed=GRID_SEED, discriminator=model.discriminator)
    return row


SEED_COLUMNS = {  # score -> (header, format of one value)
    "fid": ("classifier FID", "{:.1f}"),
    "kid": ("KID", "{:.2f}"),
    "coverage": ("coverage", "{:.2f}"),
    "confident_share": ("confident", "{:.2f}"),
    "train_seconds": ("train time (s)", "{:.0f}"),
}


def seed_table(rows, scores=tuple(SEED_COLUMNS)) -> str:
    """A markdown table with one line per variant: each score as ``mean ± std [min–max]`` over
    its seeds (``experiments.summarise``), the number of seeds, the budget and the real images seen."""
    by_score = {score: experiments.summarise(rows, by="name", score=score) for score in scores}
    names = [s["name"] for s in by_score[scores[0]]]
    first = {}
    for row in rows:
        first.setdefault(row["name"], row)
    columns = {"name": ("variant", "{}"), "n": ("seeds", "{}")}
    columns.update({score: (SEED_COLUMNS[score][0] + " mean ± std [min–max]", "{}") for score in scores})
    columns.update({"g_updates": ("G updates", "{:,}"), "real_images_seen": ("real images seen", "{:,}")})
    table_rows = []
    for i, name in enumerate(names):
        line = {"name": name, "n": by_score[scores[0]][i]["n"], "g_updates": first[name]["g_updates"],
                "real_images_seen": first[name]["real_images_seen"]}
        for score in scores:
            s, fmt = by_score[score][i], SEED_COLUMNS[score][1]
            std = fmt.format(s[f"{score}_std"]) if s["n"] > 1 else "–"
            line[score] = (f"{fmt.format(s[f'{score}_mean'])} ± {std} "
                           f"[{fmt.format(s[f'{score}_min'])}–{fmt.format(s[f'{score}_max'])}]")
        table_rows.append(line)
    return rows_to_markdown(table_rows, columns)


def rows_to_markdown(rows, columns=COLUMNS) -> str:
    """Rows as a markdown table: ``columns`` maps a row key to (header, format)."""
    head = "| " + " | ".join(header for header, _ in columns.values()) + " |"
    rule = "| " + " | ".join("---" for _ in columns) + " |"
    body = ["| " + " | ".join(fmt.format(row[key]) for key, (_, fmt) in columns.items()) + " |" for row in rows]
    return "\n".join([head, rule, *body])
