"""The latent explorer builds without a display: a static figure, or widgets that need no front end."""

import keras
import matplotlib
import numpy as np
import pytest
from keras import layers

from gan_course import explorer


def tiny_generator(latent_dim=8):
    z = keras.Input(shape=(latent_dim,))
    x = layers.Dense(7 * 7, activation="tanh")(z)
    return keras.Model(z, layers.Reshape((7, 7, 1))(x))


def tiny_conditional_generator(latent_dim=8, n_classes=3):
    z = keras.Input(shape=(latent_dim,))
    label = keras.Input(shape=(), dtype="int32")
    x = layers.Concatenate()([z, layers.Embedding(n_classes, 4)(label)])
    x = layers.Dense(7 * 7, activation="tanh")(x)
    return keras.Model([z, label], layers.Reshape((7, 7, 1))(x))


def test_the_number_of_classes_is_read_from_the_label_embedding_even_in_a_nested_model():
    assert explorer._find_n_classes(tiny_conditional_generator(n_classes=3)) == 3
    assert explorer._find_n_classes(tiny_generator()) is None
    z, label = keras.Input(shape=(8,)), keras.Input(shape=(), dtype="int32")
    outer = keras.Model([z, label], tiny_conditional_generator(n_classes=5)([z, label]))  # G inside a model
    assert explorer._find_n_classes(outer) == 5


def test_not_interactive_outside_a_notebook_front_end(monkeypatch):
    monkeypatch.delenv(explorer.WIDGETS_ENV, raising=False)
    assert explorer.is_interactive() is False  # pytest has no IPython kernel
    monkeypatch.setenv(explorer.WIDGETS_ENV, "1")
    assert explorer.is_interactive() is True


def test_static_view_for_an_unconditional_generator(monkeypatch):
    monkeypatch.delenv(explorer.WIDGETS_ENV, raising=False)
    fig = explorer.latent_explorer(tiny_generator(), seed=0, n_directions=3, steps=5)  # auto: static here
    assert isinstance(fig, matplotlib.figure.Figure)
    assert len(fig.axes) == 3 + 2  # one strip per direction, linear and spherical paths
    titles = [ax.get_title() for ax in fig.axes]
    assert any("spherical" in t for t in titles) and any("linear" in t for t in titles)


def test_static_view_for_a_conditional_generator_has_a_class_row():
    fig = explorer.latent_explorer(tiny_conditional_generator(), static=True, n_directions=2, steps=4)
    assert len(fig.axes) == 2 + 2 + 1
    assert "one class each" in fig.axes[-1].get_title()


def test_conditional_generator_is_called_with_int_labels_of_shape_batch():
    calls = []

    class Spy(keras.Model):
        def __init__(self):
            super().__init__()
            self.inner = tiny_conditional_generator()

        @property
        def inputs(self):
            return self.inner.inputs

        def call(self, inputs, training=False):
            z, labels = inputs
            calls.append((np.asarray(z).shape, np.asarray(labels).dtype, np.asarray(labels).shape))
            return self.inner([z, labels], training=training)

    explorer.latent_explorer(Spy(), n_classes=3, static=True, n_directions=1, steps=3)
    assert calls and all(len(zs) == 2 and dtype.kind == "i" and shape == (zs[0],) for zs, dtype, shape in calls)


def test_widgets_build_without_a_display():
    ipywidgets = pytest.importorskip("ipywidgets")
    ui = explorer.latent_explorer(tiny_conditional_generator(), static=False, n_directions=2, steps=4)
    assert isinstance(ui, ipywidgets.Box)
    controls = ui.children[0].children
    assert any(isinstance(c, ipywidgets.Dropdown) for c in controls)  # the class selector
    assert sum(isinstance(c, ipywidgets.FloatSlider) for c in controls) == 2


def test_clear_errors():
    with pytest.raises(ValueError, match="not conditional"):
        explorer.latent_explorer(tiny_generator(), n_classes=10, static=True)
    with pytest.raises(ValueError, match="label must be"):
        explorer.latent_explorer(tiny_conditional_generator(), label=5, static=True)
