"""An interactive latent-space explorer for any trained generator (ipywidgets).

``latent_explorer(generator)`` shows one generated image with sliders that move its code along
a few latent directions, an interpolation strip between two samples (linear or spherical) and,
for a conditional generator, a class selector. In a run without a live front end (nbconvert,
nbval, a script) it draws the same views as one static matplotlib figure instead, so a lesson
that calls it still runs top to bottom.

Conditional generators are called as ``generator([z, labels])`` with integer labels of shape
(batch,), the convention of the course's GAN zoo.
"""

from __future__ import annotations

import os
import sys

import numpy as np

from gan_course import latent

__all__ = ["WIDGETS_ENV", "is_interactive", "latent_explorer"]

WIDGETS_ENV = "GAN_COURSE_WIDGETS"  # "1" forces widgets, "0" forces the static figure


def is_interactive() -> bool:
    """True when widgets can be seen: an IPython kernel behind JupyterLab/Notebook (which set
    ``JPY_SESSION_NAME``), VS Code or Colab. nbconvert and nbval start kernels without a front
    end, so they get False. ``GAN_COURSE_WIDGETS=1`` or ``0`` overrides the guess."""
    forced = os.environ.get(WIDGETS_ENV, "").strip().lower()
    if forced in {"1", "true", "yes", "on"}:
        return True
    if forced in {"0", "false", "no", "off"}:
        return False
    if "google.colab" in sys.modules:
        return True
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None or "ipykernel" not in type(shell).__module__:  # plain Python or terminal IPython
        return False
    return bool(os.environ.get("JPY_SESSION_NAME") or os.environ.get("VSCODE_PID"))


def _generator_inputs(generator) -> list:
    inputs = generator.inputs if hasattr(generator, "inputs") and generator.inputs else None
    if inputs is None:
        raise ValueError("The generator has no known inputs: build it (call it once) before exploring it.")
    return inputs


def _all_layers(model):
    """Every layer of ``model``, those of nested models included (Keras' public ``layers``, recursively)."""
    for layer in getattr(model, "layers", ()):
        yield layer
        yield from _all_layers(layer)


def _find_n_classes(generator) -> int | None:
    import keras

    sizes = [layer.input_dim for layer in _all_layers(generator) if isinstance(layer, keras.layers.Embedding)]
    return sizes[0] if sizes else None


class _Sampler:
    """Turns codes (and labels) into images in [-1, 1] for either kind of generator."""

    def __init__(self, generator, latent_dim, n_classes):
        inputs = _generator_inputs(generator)
        self.conditional = len(inputs) > 1
        self.latent_dim = int(latent_dim or inputs[0].shape[-1])
        if not self.conditional and n_classes:
            raise ValueError("n_classes was given but the generator takes one input (z): it is not conditional.")
        self.n_classes = n_classes or (_find_n_classes(generator) if self.conditional else None)
        if self.conditional and not self.n_classes:
            raise ValueError(
                "This generator takes two inputs ([z, labels]) but the number of classes could not be "
                "read from an Embedding layer: pass n_classes=..."
            )
        self.generator = generator

    def __call__(self, codes, label: int = 0) -> np.ndarray:
        codes = np.atleast_2d(np.asarray(codes, dtype=np.float32))
        if self.conditional:
            labels = np.full((len(codes),), int(label), dtype=np.int32)
            out = self.generator([codes, labels], training=False)
        else:
            out = self.generator(codes, training=False)
        return np.asarray(out)


def _draw_strip(ax, images, title):
    from gan_course.plotting import show_images

    show_images(images, ncols=len(images), ax=ax, title=title)


def _static_figure(sampler, z_a, z_b, directions, steps, label):
    import matplotlib.pyplot as plt

    amounts = np.linspace(-3, 3, steps)
    rows = len(directions) + 2 + (1 if sampler.conditional else 0)
    fig, axes = plt.subplots(rows, 1, figsize=(1.1 * steps, 1.35 * rows), squeeze=False)
    axes = axes[:, 0]
    for i, d in enumerate(directions):
        codes = np.stack([latent.move_along(z_a, d[None], [a]) for a in amounts])
        _draw_strip(axes[i], sampler(codes, label), f"direction {i + 1}: amount -3 ... +3")
    for ax, method in zip(axes[len(directions):], ("linear", "spherical")):
        path = latent.interpolation_path(z_a, z_b, steps, method)
        _draw_strip(ax, sampler(path, label), f"{method} interpolation from sample A to sample B")
    if sampler.conditional:
        codes = np.repeat(z_a[None], sampler.n_classes, axis=0)
        images = np.concatenate([sampler(codes[i:i + 1], i) for i in range(sampler.n_classes)])
        _draw_strip(axes[-1], images, "the same z, one class each")
    fig.suptitle("latent explorer (static view: run in JupyterLab for sliders)", fontsize=10)
    fig.tight_layout()
    return fig


def _widget_ui(sampler, z_a, z_b, directions, steps, label, seed):
    import ipywidgets as w
    import matplotlib.pyplot as plt
    from IPython.display import display

    state = {"z_a": z_a, "z_b": z_b, "seed": seed}
    sliders = [w.FloatSlider(0.0, min=-3, max=3, step=0.1, description=f"dir {i + 1}", continuous_update=False)
               for i in range(len(directions))]
    method = w.ToggleButtons(options=["spherical", "linear"], description="path")
    position = w.IntSlider(0, min=0, max=steps - 1, description="A → B", continuous_update=False)
    classes = w.Dropdown(options=list(range(sampler.n_classes)), value=label, description="class") if sampler.conditional else None
    new = w.Button(description="new samples A, B")
    out = w.Output()

    def redraw(*_):
        cls = classes.value if classes is not None else 0
        path = latent.interpolation_path(state["z_a"], state["z_b"], steps, method.value)
        moved = latent.move_along(path[position.value], directions, [s.value for s in sliders])
        with out:
            out.clear_output(wait=True)
            fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3), gridspec_kw={"width_ratios": [1, 3]})
            _draw_strip(ax1, sampler(moved, cls), "current code")
            _draw_strip(ax2, sampler(path, cls), f"{method.value} path A → B")
            plt.show()

    def resample(_):
        state["seed"] += 1
        rng = np.random.default_rng(state["seed"])
        state["z_a"], state["z_b"] = rng.standard_normal((2, sampler.latent_dim)).astype(np.float32)
        redraw()

    for control in [*sliders, method, position] + ([classes] if classes is not None else []):
        control.observe(redraw, names="value")
    new.on_click(resample)
    controls = w.VBox([*sliders, method, position] + ([classes] if classes is not None else []) + [new])
    ui = w.HBox([controls, out])
    redraw()
    display(ui)
    return ui


def latent_explorer(generator, latent_dim: int | None = None, n_classes: int | None = None, seed: int = 0,
                    n_directions: int = 4, steps: int = 8, label: int = 0, static: bool | None = None):
    """Explore a generator's latent space.

    Args:
        generator: a Keras model ``z -> image`` or, conditional, ``[z, labels] -> image``.
        latent_dim: size of z; read from the generator's first input when omitted.
        n_classes: classes of a conditional generator; read from its Embedding layer when omitted.
        seed: picks samples A and B and the random directions.
        static: True draws a matplotlib figure, False builds the widgets; None (default) decides
            with ``is_interactive()``.

    Returns:
        the matplotlib Figure (static) or the ipywidgets box (interactive).
    """
    sampler = _Sampler(generator, latent_dim, n_classes)
    if sampler.conditional and not 0 <= label < sampler.n_classes:
        raise ValueError(f"label must be in 0..{sampler.n_classes - 1}, got {label}")
    rng = np.random.default_rng(seed)
    z_a, z_b = rng.standard_normal((2, sampler.latent_dim)).astype(np.float32)
    directions = latent.random_directions(sampler.latent_dim, min(n_directions, sampler.latent_dim), seed=seed)
    if static is None:
        static = not is_interactive()
    if static:
        return _static_figure(sampler, z_a, z_b, directions, steps, label)
    return _widget_ui(sampler, z_a, z_b, directions, steps, label, seed)
