"""The face score can fail: blurred faces, colour blobs and an untrained generator score worse
than real faces, in that order, with the committed face classifier (seconds, no training).

Sets, per style, at 32x32 as lesson 02/03 see them at the cpu preset: N_EVAL images scored
against the same N_REAL real renders (held-out seeds the classifier never trained on):
real renders, the same renders Gaussian-blurred (sigma 0.75 and 1.5 px), colour-only blobs of
the same faces (``renderers.render_face_blobs``), and an untrained DCGAN generator.
The measured values at n = 500 are in ``gan_course/assets/face_classifier/reference.json``.
"""

import keras
import numpy as np
import pytest
from PIL import Image

from gan_course import metrics, models, renderers
from gan_course.metrics import faces

N_REAL, N_EVAL = 400, 200
SIZES = {"anime": 100, "photo": 64}  # the sizes the dataset registry renders


def as_32(images):
    small = np.stack([np.asarray(Image.fromarray(im).resize((32, 32), Image.LANCZOS)) for im in images])
    return small.astype(np.float32) / 127.5 - 1.0


@pytest.fixture(scope="module", params=["anime", "photo"])
def sets(request):
    style = request.param
    real = as_32(renderers.render_faces(N_REAL, seed=500, size=SIZES[style], style=style)[0])
    held_out = as_32(renderers.render_faces(N_EVAL, seed=501, size=SIZES[style], style=style)[0])
    keras.utils.set_random_seed(0)
    untrained = models.dcgan_generator(64, (32, 32, 3), width=32)
    return style, real, {
        "real": held_out,
        "light blur": faces.blur_images(held_out, 0.75),
        "heavy blur": faces.blur_images(held_out, 1.5),
        "colour blobs": as_32(renderers.render_face_blobs(N_EVAL, seed=501, size=SIZES[style], style=style)),
        "untrained": metrics.sample_images(untrained, N_EVAL, seed=0),
    }


@pytest.fixture(scope="module")
def scores(sets):
    style, real, images = sets
    real_outputs = faces.face_outputs(real)  # one pass over the real set for all five
    return style, {name: faces.score_faces(x, real, seed=0, kid_subsets=20, real_outputs=real_outputs)
                   for name, x in images.items()}


def test_ranks_real_then_light_then_heavy_blur_then_untrained(scores):
    style, s = scores
    table = ", ".join(f"{k} {v.fid:.2f}" for k, v in s.items())
    order = ["real", "light blur", "heavy blur", "untrained"]
    fids = [s[k].fid for k in order]
    assert fids == sorted(fids), f"{style}: face FID out of order ({table})"
    # Clearly apart, not by a hair: each step at least 1.5x the one before.
    for a, b in zip(order, order[1:]):
        assert s[b].fid > 1.5 * s[a].fid, f"{style}: {b} not clearly worse than {a} ({table})"
    kids = [s[k].kid_mean for k in order]
    assert kids == sorted(kids), f"{style}: KID out of order ({', '.join(f'{k} {v:.3f}' for k, v in zip(order, kids))})"


def test_colour_blobs_score_far_worse_than_real_faces(scores):
    style, s = scores
    table = ", ".join(f"{k} {v.fid:.2f}" for k, v in s.items())
    assert s["colour blobs"].fid > 5 * s["real"].fid, f"{style}: blobs too close to real faces ({table})"
    assert s["colour blobs"].fid > s["light blur"].fid, f"{style}: blobs better than lightly blurred faces ({table})"


def test_attribute_coverage_sees_all_classes_of_real_faces_and_one_of_a_collapsed_set(sets):
    style, real, images = sets
    _, real_probs = faces.face_outputs(real)
    cov = faces.attribute_coverage(faces.face_outputs(images["real"])[1], real_probs)
    assert cov["hair"] == 1.0 and cov["mean"] >= 0.9, f"{style}: real faces' coverage {cov}"
    # A "generator" that draws one hair colour only: hair coverage falls to one class of the style's.
    _, labels = renderers.render_labelled_faces(N_REAL, seed=500, size=SIZES[style], style=style)
    collapsed = faces.attribute_coverage({h: p[labels["hair"] == 0] for h, p in real_probs.items()}, real_probs)
    n_colours = len(renderers.HAIR_COLOURS[style])
    assert collapsed["hair"] == pytest.approx(1 / n_colours), f"{style}: one-colour set covers {collapsed}"


def test_the_classifier_reads_the_attributes_of_new_renders():
    # Hair colour on renders of a seed it never saw, both styles; the committed accuracies agree.
    for style, offset in [("anime", 0), ("photo", len(renderers.HAIR_COLOURS["anime"]))]:
        images, labels = renderers.render_labelled_faces(200, seed=77, size=SIZES[style], style=style)
        _, probs = faces.face_outputs(as_32(images))
        acc = np.mean(probs["hair"].argmax(axis=1) == labels["hair"] + offset)
        assert acc >= 0.9, f"{style}: hair colour read right on {acc:.0%} of new renders"


def test_any_square_size_is_resized_and_bad_input_is_named():
    big = renderers.render_faces(4, seed=3, size=64)[0].astype(np.float32) / 127.5 - 1.0
    assert faces.face_features(big).shape == (4, 128)
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        faces.face_features(big * 127.5 + 127.5)
    with pytest.raises(ValueError, match="RGB"):
        faces.face_features(big[..., :1])
    with pytest.raises(ValueError, match="Give n"):
        faces.score_faces(models.dcgan_generator(8, (32, 32, 3), width=8), big)


def test_committed_reference_values_rank_the_same_way():
    ref = faces.face_reference_values()
    for style in ("anime", "photo"):
        r = ref[style]
        fids = [r[k]["fid"] for k in ("real", "light_blur", "heavy_blur", "untrained_generator")]
        assert fids == sorted(fids), f"{style}: committed face FIDs {fids}"
        assert r["colour_blobs"]["fid"] > 5 * r["real"]["fid"]
        assert len({r[k]["n_samples"] for k in r}) == 1 and len({r[k]["n_real"] for k in r}) == 1
