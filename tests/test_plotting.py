import keras
import numpy as np
import pytest
from PIL import Image

from gan_course import callbacks, models, plotting


def test_image_grid_layout_and_range():
    images = np.full((5, 4, 6, 1), -1.0, "float32")
    images[0] = 1.0
    grid = plotting.image_grid(images, ncols=3, padding=1)
    assert grid.shape == (2 * 5 + 1, 3 * 7 + 1) and grid.dtype == np.uint8
    assert grid[1:5, 1:7].min() == 255  # first image white
    assert grid[1:5, 8:14].max() == 0  # second black


def test_rgb_grid_and_bad_shape():
    assert plotting.image_grid(np.zeros((4, 3, 3, 3))).shape == (2 * 5 + 2, 2 * 5 + 2, 3)
    with pytest.raises(ValueError, match="height, width, channels"):
        plotting.image_grid(np.zeros((3, 3)))


def test_monitor_saves_one_grid_per_epoch_from_fixed_noise(tmp_path):
    g = models.dcgan_generator(4, (8, 8, 1), width=2)
    model = keras.Model()  # anything with a .generator attribute
    model.generator = g
    noise = np.random.default_rng(0).standard_normal((4, 4))
    monitor = callbacks.GANMonitor(noise, tmp_path)
    monitor.set_model(model)
    for epoch in range(3):
        monitor.on_epoch_end(epoch)
    assert [p.name for p in monitor.paths] == ["epoch_001.png", "epoch_002.png", "epoch_003.png"]
    np.testing.assert_allclose(monitor.grids[0], monitor.grids[2])  # same noise, same G -> same picture
    gif = plotting.make_gif(monitor.paths, tmp_path / "training.gif")
    with Image.open(gif) as im:
        assert im.size == Image.open(monitor.paths[0]).size


def test_gif_has_one_frame_per_distinct_grid(tmp_path):
    frames = [np.full((8, 8), value, np.uint8) for value in (0, 120, 255)]
    with Image.open(plotting.make_gif(frames, tmp_path / "g.gif")) as im:
        assert im.n_frames == 3 and im.info["loop"] == 0


def test_make_gif_needs_frames(tmp_path):
    with pytest.raises(ValueError, match="at least one frame"):
        plotting.make_gif([], tmp_path / "x.gif")


def test_plot_losses_from_a_history_dict(tmp_path):
    ax = plotting.plot_losses({"d_loss": [1.0, 0.8], "g_loss": [0.7, 0.9]}, tmp_path / "losses.png")
    assert (tmp_path / "losses.png").stat().st_size > 1000
    assert [line.get_label() for line in ax.get_lines()] == ["d_loss", "g_loss"]
    with pytest.raises(KeyError, match="g_loss"):
        plotting.plot_losses({"d_loss": [1.0]})


def test_architecture_drawing_works_on_keras_3(tmp_path):
    g = models.dcgan_generator(16, (28, 28, 1), width=8)
    picture = plotting.plot_architecture(g, tmp_path / "g.png")
    assert picture.size[0] > 200 and picture.size[1] > 50
    assert (tmp_path / "g.png").exists()
    # Different models draw differently (the picture is not a placeholder) ...
    d = models.dcgan_discriminator((28, 28, 1), width=8)
    assert np.asarray(plotting.plot_architecture(d)).shape != np.asarray(picture).shape
    # ... and the Keras 2 attribute lent to visualkeras is gone afterwards.
    assert not any(hasattr(layer, "output_shape") for layer in g.layers)
