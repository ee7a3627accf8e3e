"""Small, resumable hyperparameter sweeps for the MNIST DCGAN (lesson 05), and the seed
statistics lesson 04's zoo comparison shares with them.

One **trial** trains a DCGAN described by a ``TrialConfig`` for a fixed budget on the training
digits and scores its generator with ``metrics.score_generator`` against the HELD-OUT test
digits. A **sweep** is a list of trials; each finished trial is appended as one JSON line to a
results file, so an interrupted sweep resumes where it stopped instead of training again.

The networks are the DCGAN of ``gan_course.models`` with the switches a sweep needs (batch norm
on/off, extra stride-1 blocks for depth, kernel size, dropout), built by ``recipes.build_dcgan``
like every other DCGAN of the course; with the defaults they are lesson 01's networks.

``run_sweep`` takes any trial function (``trial=``) and any configuration with ``key()``,
``name`` and ``seed``: lesson 04 runs its zoo through it (``zoo.compare.ZooConfig``).
``summarise`` gives mean, standard deviation and range per group; ``pairwise_differences``
says which gaps between groups are larger than their spread over seeds.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import hashlib
import inspect
import json
import math
import sys
import textwrap
import time
from pathlib import Path

import numpy as np

from gan_course.config import RunConfig

__all__ = [
    "TrialConfig",
    "variant",
    "run_trial",
    "trial_stem",
    "save_trial_outputs",
    "run_sweep",
    "code_digest",
    "load_results",
    "summarise",
    "pairwise_differences",
]

# Row fields that are measurements, not configuration.
_SCORE_FIELDS = ("fid", "kid", "coverage", "entropy", "confident_share")


@dataclasses.dataclass(frozen=True)
class TrialConfig(RunConfig):
    """One trial of a sweep: a ``config.RunConfig`` (every setting of the run, with its defaults)
    plus the factor the trial varies. Row labels default to ``"baseline"``."""

    name: str = "baseline"  # the row label, e.g. "lr D x4"
    factor: str = "baseline"  # what this trial varies, e.g. "learning rates"


def variant(base: TrialConfig, name: str, factor: str | None = None, **changes) -> TrialConfig:
    """``base`` with some fields changed and a new row label, e.g.
    ``variant(base, "latent 8", "latent size", latent_dim=8)``.

    Raises:
        ValueError: for a field TrialConfig does not have (a typo would silently run the baseline).
    """
    return base.replace(name, factor=factor or name, **changes)


# --------------------------------------------------------------------------- one trial


def run_trial(cfg: TrialConfig, train_images, test_images, samples_dir: Path | None = None,
              models_dir: Path | None = None, verbose: bool = False) -> dict:
    """Train one configuration and score it. Returns a flat row: the config, the scores, the time.

    ``train_images`` are the digits the GAN learns from; ``test_images`` the held-out digits it is
    scored against (never the training set: a generator that copies training digits would
    otherwise look perfect). When ``samples_dir`` is given, 64 samples from a fixed noise batch
    are saved there as ``<name>_seed<seed>.npy`` for later plots; with ``models_dir`` the
    generator is saved as ``<name>_seed<seed>.keras``.
    """
    import keras

    from gan_course import data, metrics, recipes
    from gan_course.presets import capped_batch

    images = train_images if cfg.max_images is None else train_images[: cfg.max_images]
    if len(images) < capped_batch(cfg.batch_size):  # make_dataset's batch: smaller only under the step cap
        raise ValueError(f"{len(images)} training images cannot fill one batch of {capped_batch(cfg.batch_size)}: "
                         "lower batch_size.")
    keras.utils.set_random_seed(cfg.seed)
    gan = recipes.build_dcgan(cfg)  # the seed, the switches, real_label and the two Adams come from cfg
    gan.run_eagerly = cfg.eager  # a handful of steps (smoke, the step cap) run faster without a graph
    # (D drops before its LeakyReLU, as models does: the same function as after it, since LeakyReLU is
    # positively homogeneous and maps 0 to 0, so rows cached from the sweep's earlier builders stay valid.)
    dataset = data.make_dataset(images, cfg.batch_size, seed=cfg.seed)
    # The budget: cfg.epochs passes, or cfg.steps generator updates when it is set.
    budget = dict(epochs=cfg.epochs) if cfg.steps is None else dict(epochs=1, steps_per_epoch=cfg.steps)
    dataset = dataset if cfg.steps is None else dataset.repeat()
    start, cpu_start = time.perf_counter(), time.process_time()
    history = gan.fit(dataset, **budget, verbose=2 if verbose else 0).history
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start

    last = {k: float(v[-1]) for k, v in history.items()}
    diverged = not all(math.isfinite(v) for v in last.values())
    row = cfg.as_dict()
    row.update(
        steps=cfg.epochs * (len(images) // cfg.batch_size) if cfg.steps is None else cfg.steps,
        g_params=gan.generator.count_params(),
        d_params=gan.discriminator.count_params(),
        train_seconds=round(seconds, 1),
        train_cpu_seconds=round(cpu_seconds, 1),
        diverged=diverged,
        **{f"final_{k}": v for k, v in last.items()},
    )
    scores = metrics.score_generator(gan.sampling_generator, test_images, n=cfg.eval_samples, seed=cfg.seed)
    row.update({k: float(getattr(scores, k if k != "kid" else "kid_mean")) for k in _SCORE_FIELDS})
    if samples_dir is not None:
        noise = np.random.default_rng(12345).standard_normal((64, cfg.latent_dim)).astype("float32")
        samples_dir = Path(samples_dir)
        samples_dir.mkdir(parents=True, exist_ok=True)
        np.save(samples_dir / f"{trial_stem(cfg)}.npy", np.asarray(gan.sampling_generator(noise, training=False)))
    if models_dir is not None:
        Path(models_dir).mkdir(parents=True, exist_ok=True)
        gan.sampling_generator.save(Path(models_dir) / f"{trial_stem(cfg)}.keras")
    return row


def trial_stem(trial) -> str:
    """File name stem for a trial's saved samples and model, e.g. ``lr_d_x4_seed0``.

    ``trial`` is a ``TrialConfig`` or a result row (a dict or a pandas row) with ``name`` and ``seed``.
    """
    name, seed = (trial.name, trial.seed) if isinstance(trial, RunConfig) else (trial["name"], trial["seed"])
    slug = "".join(c if c.isalnum() else "_" for c in str(name)).strip("_").lower()
    return f"{slug}_seed{int(seed)}"


def save_trial_outputs(stem: str, generator, latent_dim: int, samples_dir=None, models_dir=None,
                       n_samples: int = 36, noise_seed: int = 12345, **networks) -> None:
    """Save one finished trial's outputs, for plots and checks after the sweep.

    With ``samples_dir``: ``n_samples`` images from the fixed noise ``noise_seed`` (the same for
    every trial, so grids compare) as ``<stem>.npy``. With ``models_dir``: ``generator`` as
    ``<stem>_generator.keras`` and each of ``networks`` (e.g. ``discriminator=...``) as
    ``<stem>_<name>.keras``.
    """
    if samples_dir is not None:
        z = np.random.default_rng(noise_seed).standard_normal((n_samples, latent_dim)).astype("float32")
        Path(samples_dir).mkdir(parents=True, exist_ok=True)
        np.save(Path(samples_dir) / f"{stem}.npy", np.asarray(generator(z, training=False)))
    if models_dir is not None:
        Path(models_dir).mkdir(parents=True, exist_ok=True)
        for name, net in {"generator": generator, **networks}.items():
            net.save(Path(models_dir) / f"{stem}_{name}.keras")


# --------------------------------------------------------------------------- code digests

_PACKAGE = "gan_course"
_PACKAGE_DIR = Path(__file__).resolve().parent
# Modules that only show what a run does (progress bars): editing them does not retrain cached rows.
_DISPLAY_ONLY = {"gan_course.progress"}


def _module_file(name: str) -> Path | None:
    """The source file of package module ``name`` (``gan_course.zoo.compare``), or None."""
    if name != _PACKAGE and not name.startswith(_PACKAGE + "."):
        return None
    base = _PACKAGE_DIR.joinpath(*name.split(".")[1:])
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def _code_text(source: str) -> str:
    """What a piece of source *does*: its syntax tree without docstrings, comments or line numbers,
    so that editing prose or moving code does not count as a change (the raw text if it does not parse)."""
    try:
        tree = ast.parse(textwrap.dedent(source))
    except SyntaxError:  # e.g. a lambda cut out of the middle of a line
        return source.strip()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and body
                and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)):
            node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree)


def _imported_modules(name: str, tree: ast.AST) -> set[str]:
    """The ``gan_course`` modules that module ``name`` imports anywhere (functions' own imports included)."""
    package = name if _module_file(name).name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{parent}.{base}".rstrip(".")
            for alias in node.names:  # `from gan_course import data`: data is a module, not an attribute
                sub = f"{base}.{alias.name}"
                found.add(sub if _module_file(sub) else base)
    return {m for m in found if _module_file(m) and m not in _DISPLAY_ONLY}


def _roots(obj, modules: set[str], sources: dict[str, str], seen: set[int]) -> None:
    """Add what running ``obj`` can use: its package module, or (for a function or class defined
    elsewhere, e.g. in a notebook cell) its own source and the globals its code names."""
    if id(obj) in seen or obj is None or isinstance(obj, (str, bytes, int, float, bool, Path)):
        return
    seen.add(id(obj))
    if isinstance(obj, functools.partial):
        for part in (obj.func, *obj.args, *obj.keywords.values()):
            _roots(part, modules, sources, seen)
        return
    if isinstance(obj, (list, tuple, set, frozenset)):
        for part in obj:
            _roots(part, modules, sources, seen)
        return
    if isinstance(obj, dict):
        for part in obj.values():
            _roots(part, modules, sources, seen)
        return
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        _roots(type(obj), modules, sources, seen)
        for field in dataclasses.fields(obj):
            _roots(getattr(obj, field.name), modules, sources, seen)
        return
    if inspect.ismethod(obj):  # e.g. scorer.score_generator: the method's class and function
        _roots(type(obj.__self__), modules, sources, seen)
        _roots(obj.__func__, modules, sources, seen)
        return
    if inspect.ismodule(obj):
        if _module_file(obj.__name__):
            modules.add(obj.__name__)
        return
    if not (inspect.isfunction(obj) or inspect.isclass(obj)):
        return
    module = getattr(obj, "__module__", None) or ""
    if _module_file(module):
        modules.add(module)
        return
    home = getattr(sys.modules.get(module), "__file__", None) or ""
    if module.split(".")[0] in sys.stdlib_module_names or "-packages" in home:  # a library, not course code
        return
    try:
        source = inspect.getsource(obj)
    except (OSError, TypeError):  # no source to read (e.g. a compiled extension): its name stands for it
        source = f"{module}.{getattr(obj, '__qualname__', obj)}"
    sources[f"{module}.{getattr(obj, '__qualname__', '?')}"] = _code_text(source)
    if inspect.isfunction(obj):  # follow the globals its code names: helpers, losses, package modules
        codes, names = [obj.__code__], set()
        while codes:
            code = codes.pop()
            names.update(code.co_names)
            codes.extend(c for c in code.co_consts if inspect.iscode(c))
        for name in sorted(names):
            if name in obj.__globals__:
                _roots(obj.__globals__[name], modules, sources, seen)


def code_modules(trial, configs=()) -> tuple[list[str], dict[str, str]]:
    """The package modules a sweep's trials can run, and the source of the functions and classes from
    outside the package that they use: see ``code_digest``."""
    modules, sources, seen = set(), {}, set()
    _roots(trial, modules, sources, seen)
    for cfg in configs:
        _roots(cfg, modules, sources, seen)
    todo = sorted(modules)
    while todo:
        name = todo.pop()
        for sub in _imported_modules(name, ast.parse(_module_file(name).read_text())):
            if sub not in modules:
                modules.add(sub)
                todo.append(sub)
    return sorted(modules), sources


def code_digest(trial, configs=()) -> str:
    """A 12-character digest of the code that ``trial`` runs on ``configs``, for the sweep cache.

    It covers (1) every ``gan_course`` module that the trial function and the functions and
    classes in the configurations' fields live in, and every ``gan_course`` module those import,
    transitively (``import`` statements found with ``ast``, inside functions too), and (2) the
    source of each function or class from outside the package (a notebook cell, a script, a test
    module) that the trial or a configuration carries, e.g. a loss function as a configuration
    field, and of the functions and classes its code names as globals, transitively
    (``inspect.getsource``, which reads notebook cells through IPython's line cache). Each source
    counts as its syntax tree without docstrings and comments, so editing prose or blank lines keeps
    the cache; any change to what the code does, however small, gives a new digest. Libraries
    (Keras, TensorFlow, NumPy) are not covered: a new library version keeps the cache; nor is
    ``gan_course.progress`` (it only shows progress). An edited
    package module counts once it is imported again (restart the kernel after editing the package).
    """
    modules, sources = code_modules(trial, configs)
    h = hashlib.sha256()
    for name in modules:
        h.update(f"module {name}\n{_code_text(_module_file(name).read_text())}\n".encode())
    for name in sorted(sources):
        h.update(f"source {name}\n{sources[name]}\n".encode())
    return h.hexdigest()[:12]


def _sweep_digests(trial, configs) -> list[str]:
    """``code_digest(trial, [cfg])`` for each config, computed once per distinct set of code roots."""
    by_roots, digests = {}, []
    for cfg in configs:
        modules, sources = set(), {}
        _roots(trial, modules, sources, set())
        _roots(cfg, modules, sources, set())
        roots = (tuple(sorted(modules)), tuple(sorted(sources.items())))
        if roots not in by_roots:
            by_roots[roots] = code_digest(trial, [cfg])
        digests.append(by_roots[roots])
    return digests


# --------------------------------------------------------------------------- sweeps


def load_results(path) -> list[dict]:
    """Rows saved by ``run_sweep`` (one JSON object a line); [] when the file does not exist."""
    path = Path(path)
    if not path.exists():
        return []
    rows = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as err:  # a run killed mid-write leaves half a line
                print(f"{path}:{number}: skipping an unreadable line ({err}); that trial will run again")
    return rows


def _append_line(path: Path, line: str) -> None:
    # A run killed mid-write leaves a line without its newline: start a fresh line after it,
    # so the half line stays unreadable on its own instead of spoiling the next row.
    needs_newline = path.exists() and path.stat().st_size > 0 and path.read_bytes()[-1:] != b"\n"
    with path.open("a") as f:
        f.write(("\n" if needs_newline else "") + line + "\n")
        f.flush()


def run_sweep(configs, train_images, test_images, results_path, samples_dir=None, models_dir=None,
              verbose: bool = True, trial=None) -> list[dict]:
    """Run every config not already in ``results_path``; append each new row as it finishes.

    ``trial(cfg, train_images, test_images, samples_dir=..., models_dir=...)`` trains and scores
    one configuration and returns its row (default: ``run_trial``, the DCGAN of lesson 05). A
    config needs ``key()`` (its identity: any change of setting must change it), ``name`` and
    ``seed``; the printed line uses the row's ``fid``, ``coverage``, ``confident_share`` and
    ``train_seconds``. Returns the rows of ``configs`` in their order (loaded or new).

    **The cache is keyed by configuration and code.** Each row stores ``key`` (``cfg.key()``) and
    ``code`` (``code_digest(trial, [cfg])``: the package modules the trial can reach and any
    notebook-defined function or class it or the config carries). A row is reused only when both
    match, so editing a loss, a network or the trial function trains its rows again (one line
    says how many); rows saved before the digest existed have no ``code`` and train again once.
    Outdated rows stay in the file (``load_results`` still reads them); delete the file to start over.

    With ``verbose``, a ``progress.Progress`` shows the trials done of the total (cached ones count
    as done at once), the running trial's steps and losses, the time spent and an estimate of what
    is left, and each finished trial prints one line ``[k/N trials] <name> seed <s>: <scores> |
    <elapsed>, about <left> left``. In a notebook open in Jupyter or in a terminal that is a live
    bar (tqdm's widget or text bar); where the output is kept (nbconvert, nbval, the site build, a
    CI log, a file) it is plain lines: one per trial, and at most one every
    ``progress.LOG_INTERVAL`` seconds (30) while a trial runs.
    """
    trial = run_trial if trial is None else trial
    configs = list(configs)
    keys = [c.key() for c in configs]
    if len(set(keys)) != len(keys):
        raise ValueError("Two trials in the sweep have identical configurations: give each a different seed or setting.")
    codes = _sweep_digests(trial, configs)
    results_path = Path(results_path)
    results_path.parent.mkdir(parents=True, exist_ok=True)
    saved = [row for row in load_results(results_path) if "key" in row]
    done = {(row["key"], row.get("code")): row for row in saved}
    saved_keys = {row["key"] for row in saved}
    todo = [(c, k, code) for c, k, code in zip(configs, keys, codes) if (k, code) not in done]
    stale = sum(k in saved_keys for _, k, _ in todo)
    if stale:
        print(f"{stale} cached trial{'s' if stale != 1 else ''} in {results_path.name} ran older code; training "
              f"{'them' if stale != 1 else 'it'} again")
    if verbose:
        print(f"{len(configs) - len(todo)} of {len(configs)} trials already in {results_path.name}; running {len(todo)}")
    if not todo:
        return [done[k, code] for k, code in zip(keys, codes)]
    from gan_course import progress

    # Trials done of the total (the cached ones count as done), the running trial's steps (a course GAN's fit
    # reports them to the innermost Progress by itself), the time spent and an estimate of what is left.
    with progress.Progress(len(configs), unit="trial", done=len(configs) - len(todo),
                           mode=None if verbose else "off") as bar:
        for cfg, key, code in todo:
            bar.start(f"{cfg.name}, seed {cfg.seed}")
            row = trial(cfg, train_images, test_images, samples_dir=samples_dir, models_dir=models_dir)
            row["key"], row["code"] = key, code
            _append_line(results_path, json.dumps(row))
            done[key, code] = row
            bar.finish(f"{cfg.name:<18s} seed {cfg.seed}: FID {row['fid']:7.1f}  coverage {row['coverage']:.1f}  "
                       f"confident {row['confident_share']:.0%}  ({row['train_seconds']:.0f} s)" if verbose else None)
    return [done[k, code] for k, code in zip(keys, codes)]


def summarise(rows, by: str = "name", score: str = "fid") -> list[dict]:
    """Mean, sample standard deviation, smallest and largest value and count of ``score`` per
    ``by`` value, in first-seen order (keys ``<score>_mean``, ``_std``, ``_min``, ``_max``, ``n``)."""
    groups: dict = {}
    for row in rows:
        groups.setdefault(row[by], []).append(float(row[score]))
    out = []
    for label, values in groups.items():
        v = np.asarray(values)
        out.append({by: label, f"{score}_mean": float(v.mean()),
                    f"{score}_std": float(v.std(ddof=1)) if len(v) > 1 else float("nan"),
                    f"{score}_min": float(v.min()), f"{score}_max": float(v.max()), "n": len(v)})
    return out


def pairwise_differences(summary, by: str = "name", score: str = "fid") -> list[dict]:
    """Every pair of groups in ``summary`` (from ``summarise``), and whether their gap is larger
    than their spread over seeds.

    A pair counts as **separated** when the two ranges over seeds do not overlap: every run of
    one group scored below every run of the other. With three seeds each, two groups that
    differ only by seed noise still look separated about one time in ten (2 of the 20 ways to
    order six runs), so a single separated pair is a hint, not a proof. A group with one run
    has a range of zero width: more seeds are what make the decision meaningful.

    Returns one dict per pair, the lower mean first: ``low``, ``high``, ``difference`` (mean of
    high minus mean of low, >= 0), ``gap`` (the high group's smallest value minus the low
    group's largest: > 0 when separated) and ``separated``.
    """
    stats = sorted(summary, key=lambda s: s[f"{score}_mean"])
    pairs = []
    for i, low in enumerate(stats):
        for high in stats[i + 1:]:
            gap = high[f"{score}_min"] - low[f"{score}_max"]
            pairs.append({"low": low[by], "high": high[by],
                          "difference": high[f"{score}_mean"] - low[f"{score}_mean"],
                          "gap": gap, "separated": bool(gap > 0)})
    return pairs
