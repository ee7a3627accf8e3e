"""Procedural stand-ins for the lesson-02 datasets: LEGO-like bricks and cartoon faces.

The real datasets (Kaggle's LEGO brick renders, the anime face dataset, CelebA) need a
download. Without a network the course trains on pictures it draws itself, deterministic
from a seed, so every offline run sees the same images:

- ``render_brick``: one brick of a known shape (1x1 ... 2x4 bricks, a plate, a round brick,
  a slope) with studs, seen from a random viewpoint, shaded by a fixed light, grayscale on a
  light background, like the renders of the LEGO dataset;
- ``render_face``: one cartoon face (head shape, skin tone, hair colour and style, eye size
  and colour, mouth, background) in RGB; ``style="anime"`` draws big anime eyes and bright hair,
  ``style="photo"`` smaller eyes, natural hair and muted backgrounds (the CelebA stand-in).

Each picture comes with its class (the brick's shape, the face's hair colour), so lessons can
measure mode collapse by counting classes among generated samples. ``draw_face`` and
``render_labelled_faces`` also return every attribute a face was drawn with (the same pixels
for the same seed); they train the face classifier of ``gan_course.metrics.faces``, and
``render_face_blobs`` draws the same faces as colour-only blobs, to prove that score can fail. Drawing uses Pillow
polygons at 2x size, then an antialiased downscale; pure numpy + Pillow, a few ms per image.

These are synthetic stand-ins: a GAN that learns them has learned these drawings, not the
real datasets. Introduced in ``notebooks/02_dcgan_image_folder.ipynb``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

__all__ = [
    "RENDERER_VERSION",
    "BRICK_SHAPES",
    "HAIR_COLOURS",
    "render_brick",
    "render_bricks",
    "FACE_ATTRIBUTES",
    "face_attribute_classes",
    "draw_face",
    "draw_face_blob",
    "render_face",
    "render_faces",
    "render_labelled_faces",
    "render_face_blobs",
    "write_image_folder",
    "folder_is_complete",
]

# Bump when a drawing changes: cache folders are keyed by it, so old renders are not reused.
RENDERER_VERSION = 1
_SUPERSAMPLE = 2
_COMPLETE_FILE = "render_complete.json"

# --------------------------------------------------------------------------- bricks

# name -> (studs along x, studs along y, body height in stud pitches, body kind)
_BRICKS = {
    "brick_1x1": (1, 1, 1.2, "box"),
    "brick_1x2": (1, 2, 1.2, "box"),
    "brick_1x4": (1, 4, 1.2, "box"),
    "brick_2x2": (2, 2, 1.2, "box"),
    "brick_2x4": (2, 4, 1.2, "box"),
    "plate_2x4": (2, 4, 0.4, "box"),
    "round_2x2": (2, 2, 1.2, "round"),
    "slope_2x2": (2, 2, 1.2, "slope"),
}
BRICK_SHAPES: tuple[str, ...] = tuple(_BRICKS)
_STUD_RADIUS, _STUD_HEIGHT = 0.3, 0.18
_LIGHT = np.array([-0.45, -0.55, 0.70]) / np.linalg.norm([-0.45, -0.55, 0.70])


def _prism(outline: np.ndarray, z0: float, z1: float):
    """Vertices and faces (vertex-index lists, counter-clockwise seen from outside) of a vertical
    prism over a convex counter-clockwise ``outline`` (k, 2)."""
    k = len(outline)
    verts = np.concatenate([np.c_[outline, np.full(k, z0)], np.c_[outline, np.full(k, z1)]])
    faces = [list(range(k - 1, -1, -1)), list(range(k, 2 * k))]  # bottom, top
    faces += [[i, (i + 1) % k, k + (i + 1) % k, k + i] for i in range(k)]
    return verts, faces


def _brick_solid(nx: int, ny: int, h: float, kind: str):
    """The brick's body as a convex solid, plus the (x, y, z) centres of its studs."""
    if kind == "round":
        t = np.linspace(0, 2 * np.pi, 28, endpoint=False)
        outline = np.c_[nx / 2 * np.cos(t), ny / 2 * np.sin(t)]
        verts, faces = _prism(outline, 0.0, h)
    else:
        outline = np.array([[-nx / 2, -ny / 2], [nx / 2, -ny / 2], [nx / 2, ny / 2], [-nx / 2, ny / 2]])
        verts, faces = _prism(outline, 0.0, h)
    studs = [(x - nx / 2 + 0.5, y - ny / 2 + 0.5, h) for x in range(nx) for y in range(ny)]
    if kind == "slope":
        # The front half (y < 0) slopes from full height down to a low lip; studs only on the back row.
        lip = 0.35 * h
        verts = verts.copy()
        for i, (x, y, z) in enumerate(verts):
            if z == h and y < 0:
                verts[i, 2] = lip
        verts = np.concatenate([verts, [[-nx / 2, 0.0, h], [nx / 2, 0.0, h]]])
        # Vertices: bottom 0=(-x,-y) 1=(+x,-y) 2=(+x,+y) 3=(-x,+y), tops 4..7 above them,
        # ridge 8=(-x,0) 9=(+x,0) where the slope meets the flat back half.
        faces = [
            [3, 2, 1, 0],  # bottom
            [0, 1, 5, 4],  # front lip (y = -ny/2), low
            [4, 5, 9, 8],  # slope
            [8, 9, 6, 7],  # flat top (back half)
            [2, 3, 7, 6],  # back
            [1, 2, 6, 9, 5],  # right side
            [3, 0, 4, 8, 7],  # left side
        ]
        studs = [s for s in studs if s[1] > 0]
    return verts, faces, studs


def _camera(azimuth: float, elevation: float):
    """Rotation taking world points to (screen right, screen up, towards the viewer)."""
    ca, sa, ce, se = np.cos(azimuth), np.sin(azimuth), np.cos(elevation), np.sin(elevation)
    spin = np.array([[ca, -sa, 0], [sa, ca, 0], [0, 0, 1]])
    tilt = np.array([[1, 0, 0], [0, se, ce], [0, -ce, se]])  # viewer sits at -y, above by `elevation`
    return tilt @ spin


def _shade(normal_world: np.ndarray, base: float) -> float:
    diffuse = max(0.0, float(normal_world @ _LIGHT))
    return base * (0.45 + 0.65 * diffuse)


def _face_normal(verts: np.ndarray, face: list[int]) -> np.ndarray:
    a, b, c = verts[face[0]], verts[face[1]], verts[face[2]]
    n = np.cross(b - a, c - a)
    return n / (np.linalg.norm(n) + 1e-12)


def render_brick(rng: np.random.Generator, size: int = 64, shape: str | None = None) -> tuple[np.ndarray, int]:
    """One grayscale brick picture, uint8 (size, size), and its shape's index in ``BRICK_SHAPES``.

    Random: the shape (unless given), the viewpoint (any azimuth, 20-60 degree elevation),
    the plastic's gray level, the background, the zoom and the position in the frame.
    """
    from PIL import Image, ImageDraw

    label = int(rng.integers(len(BRICK_SHAPES))) if shape is None else BRICK_SHAPES.index(shape)
    nx, ny, h, kind = _BRICKS[BRICK_SHAPES[label]]
    verts, faces, studs = _brick_solid(nx, ny, h, kind)
    rot = _camera(rng.uniform(0, 2 * np.pi), np.radians(rng.uniform(20, 60)))
    base = rng.uniform(0.35, 0.95)  # plastic brightness: dark gray to white bricks
    background = int(rng.uniform(200, 250))

    # Studs: a cylinder each, sampled as two circles of points.
    t = np.linspace(0, 2 * np.pi, 20, endpoint=False)
    circle = np.c_[_STUD_RADIUS * np.cos(t), _STUD_RADIUS * np.sin(t)]
    stud_pts = [
        (np.c_[circle + (sx, sy), np.full(len(t), sz)], np.c_[circle + (sx, sy), np.full(len(t), sz + _STUD_HEIGHT)])
        for sx, sy, sz in studs
    ]
    all_pts = np.concatenate([verts] + [p for pair in stud_pts for p in pair])
    proj = all_pts @ rot.T
    lo, hi = proj[:, :2].min(axis=0), proj[:, :2].max(axis=0)
    canvas = size * _SUPERSAMPLE
    scale = canvas * rng.uniform(0.55, 0.85) / max(hi - lo)
    centre = canvas / 2 + rng.uniform(-0.08, 0.08, 2) * canvas

    def to_px(p3):
        q = p3 @ rot.T
        mid = (lo + hi) / 2
        return [(centre[0] + (x - mid[0]) * scale, centre[1] - (y - mid[1]) * scale) for x, y in q[:, :2]]

    img = Image.new("L", (canvas, canvas), background)
    draw = ImageDraw.Draw(img)
    edge = max(1, canvas // 96)
    view = rot[2]  # world direction towards the viewer
    for face in faces:  # a convex solid: every face turned to the viewer is fully visible
        n = _face_normal(verts, face)
        if n @ view > 1e-6:
            g = int(np.clip(255 * _shade(n, base), 0, 255))
            draw.polygon(to_px(verts[face]), fill=g, outline=int(g * 0.7), width=edge)
    # Far studs first so near ones cover them (painter's algorithm on depth).
    order = np.argsort([(np.array(s) @ rot.T)[2] for s in studs])
    top_shade = int(np.clip(255 * _shade(np.array([0, 0, 1.0]), base) * 1.08, 0, 255))
    for i in order:
        bottom, top = stud_pts[i]
        both = to_px(np.concatenate([bottom, top]))
        hull = _convex_hull(np.array(both))
        side = int(np.clip(255 * base * 0.62, 0, 255))
        draw.polygon([tuple(p) for p in hull], fill=side, outline=int(side * 0.75), width=edge)
        draw.polygon(to_px(top), fill=top_shade, outline=int(top_shade * 0.8), width=edge)
    img = img.resize((size, size), Image.LANCZOS)
    return np.asarray(img, dtype=np.uint8), label


def _convex_hull(points: np.ndarray) -> np.ndarray:
    """Andrew's monotone chain: the hull of 2-D points, counter-clockwise."""
    pts = sorted(map(tuple, points))

    def cross(o, a, b):
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower, upper = [], []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return np.array(lower[:-1] + upper[:-1])


def render_bricks(n: int, seed: int = 0, size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """``n`` brick pictures, uint8 (n, size, size, 1), and their shape labels (n,).

    The same ``seed`` gives the same pictures on every machine.
    """
    _check_count(n, size)
    rng = np.random.default_rng(seed)
    images = np.empty((n, size, size, 1), np.uint8)
    labels = np.empty(n, np.int64)
    for i in range(n):
        images[i, ..., 0], labels[i] = render_brick(rng, size)
    return images, labels


# --------------------------------------------------------------------------- faces

# name -> RGB; the anime palette is bright, the photo palette natural.
HAIR_COLOURS: dict[str, dict[str, tuple[int, int, int]]] = {
    "anime": {
        "black": (35, 30, 40),
        "brown": (120, 72, 40),
        "blonde": (240, 205, 110),
        "red": (200, 45, 40),
        "blue": (60, 100, 215),
        "pink": (245, 140, 185),
        "silver": (200, 205, 215),
        "green": (70, 170, 90),
    },
    "photo": {
        "black": (28, 24, 22),
        "dark_brown": (70, 45, 30),
        "brown": (125, 85, 55),
        "blonde": (205, 170, 110),
        "auburn": (145, 60, 35),
        "gray": (150, 150, 150),
    },
}
_SKIN = [(255, 224, 196), (241, 194, 160), (224, 172, 125), (198, 134, 90), (141, 85, 54), (250, 210, 185)]
_EYES = [(60, 110, 200), (60, 150, 80), (140, 80, 40), (150, 60, 160), (200, 60, 60), (40, 40, 40), (220, 150, 40)]


def _jitter(rng, colour, amount=18):
    return tuple(int(np.clip(c + rng.integers(-amount, amount + 1), 0, 255)) for c in colour)


# The face attributes a classifier can learn, with their class names. Each is drawn from a
# fixed list, so every face has one class per attribute ("blush" is anime only: none, one
# cheek or both; photo faces never blush). Hair classes depend on the style, the rest do not.
FACE_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "skin": ("pale", "light", "tan", "brown", "dark", "rosy"),
    "eyes": ("blue", "green", "brown", "violet", "red", "dark", "amber"),
    "hair_length": ("short", "long"),
    "mouth": ("smile", "straight"),
    "blush": ("none", "one", "both"),
}


def face_attribute_classes(style: str = "anime") -> dict[str, tuple[str, ...]]:
    """Class names of every face attribute for ``style``: ``{"hair": (...), "skin": (...), ...}``.

    Photo-style faces draw eye colours from the first six only and never blush.
    """
    if style not in HAIR_COLOURS:
        raise ValueError(f"style must be one of {list(HAIR_COLOURS)}, not {style!r}")
    return {"hair": tuple(HAIR_COLOURS[style]), **FACE_ATTRIBUTES}


def draw_face(rng: np.random.Generator, size: int = 64, style: str = "anime") -> tuple[np.ndarray, dict]:
    """One cartoon face, uint8 (size, size, 3), and every parameter drawn for it.

    Random: head width and chin, position, skin tone, hair colour and style (short, long,
    with or without a fringe), eye size, spacing and colour, eyebrows, mouth, blush, background.

    The parameters: the class attributes of ``face_attribute_classes(style)`` as indices
    (``hair``, ``skin``, ``eyes``, ``hair_length``, ``mouth``, ``blush``), the colours actually
    used after jitter (``hair_rgb``, ``skin_rgb``, ``eye_rgb``, ``background_rgb``) and the
    layout as fractions of the picture (``centre``, ``head_half_width``, ``head_half_height``,
    ``hair_bottom``: where long hair ends, ``eye_y``, ``mouth_y``). ``render_face`` draws the
    same picture from the same RNG state; this function only also reports what it drew.
    """
    from PIL import Image, ImageDraw

    if style not in HAIR_COLOURS:
        raise ValueError(f"style must be one of {list(HAIR_COLOURS)}, not {style!r}")
    palette = HAIR_COLOURS[style]
    anime = style == "anime"
    label = int(rng.integers(len(palette)))
    hair = _jitter(rng, list(palette.values())[label], 15)
    hair_dark = tuple(int(c * 0.72) for c in hair)
    skin_index = int(rng.integers(len(_SKIN)))
    skin = _jitter(rng, _SKIN[skin_index], 10)
    skin_dark = tuple(int(c * 0.85) for c in skin)
    if anime:
        background = tuple(int(v) for v in rng.integers(150, 256, 3))
    else:
        grey = int(rng.integers(60, 220))
        background = _jitter(rng, (grey, grey, grey), 25)

    s = size * _SUPERSAMPLE
    img = Image.new("RGB", (s, s), background)
    d = ImageDraw.Draw(img)
    cx = s * (0.5 + rng.uniform(-0.05, 0.05))
    cy = s * (0.55 + rng.uniform(-0.04, 0.04))
    hw = s * rng.uniform(0.24, 0.31)  # half width of the head
    hh = hw * rng.uniform(1.1, 1.3)  # half height
    long_hair = rng.random() < 0.5
    hair_bottom = cy + hh * 0.6

    # Hair behind the head: a big ellipse, plus curtains down the sides for long hair.
    d.ellipse([cx - hw * 1.25, cy - hh * 1.3, cx + hw * 1.25, cy + hh * 0.6], fill=hair)
    if long_hair:
        hair_bottom = cy + hh * rng.uniform(1.0, 1.6)
        d.rectangle([cx - hw * 1.25, cy - hh * 0.2, cx + hw * 1.25, hair_bottom], fill=hair)
    # Neck and head: an ellipse for the skull, a polygon down to the chin (pointier for anime).
    d.rectangle([cx - hw * 0.35, cy + hh * 0.6, cx + hw * 0.35, s], fill=skin_dark)
    d.ellipse([cx - hw, cy - hh, cx + hw, cy + hh * 0.55], fill=skin)
    chin = cy + hh * (1.0 if anime else 0.9)
    chin_w = hw * (0.18 if anime else 0.45)
    d.polygon([(cx - hw, cy), (cx + hw, cy), (cx + hw * 0.8, cy + hh * 0.6), (cx + chin_w, chin),
               (cx - chin_w, chin), (cx - hw * 0.8, cy + hh * 0.6)], fill=skin)
    # Fringe: a cap of hair over the forehead with a few pointed locks.
    top = cy - hh * 1.05
    fringe = cy - hh * rng.uniform(0.15, 0.45)
    d.chord([cx - hw * 1.08, top, cx + hw * 1.08, cy + hh * 0.2], 180, 360, fill=hair)
    n_locks = int(rng.integers(3, 7))
    xs = np.linspace(cx - hw * 1.02, cx + hw * 1.02, n_locks + 1)
    for a, b in zip(xs[:-1], xs[1:]):
        tip = fringe + hh * rng.uniform(0.0, 0.25)
        d.polygon([(a, cy - hh * 0.45), (b, cy - hh * 0.45), ((a + b) / 2 + rng.uniform(-3, 3), tip)], fill=hair)
    # Eyes: white, iris, pupil and a highlight; big and tall for anime.
    eye_y = cy + hh * rng.uniform(0.05, 0.18)
    spread = hw * rng.uniform(0.38, 0.5)
    ew = hw * (rng.uniform(0.2, 0.27) if anime else rng.uniform(0.14, 0.18))
    eh = ew * (rng.uniform(1.2, 1.6) if anime else rng.uniform(0.55, 0.7))
    eye_index = int(rng.integers(len(_EYES) if anime else 6))
    iris = _jitter(rng, _EYES[eye_index], 20 if anime else 10)
    blush = 0
    for side in (-1, 1):
        ex = cx + side * spread
        d.ellipse([ex - ew, eye_y - eh, ex + ew, eye_y + eh], fill=(250, 250, 250), outline=(40, 30, 30), width=2)
        ir = ew * 0.78
        d.ellipse([ex - ir, eye_y - eh * 0.85, ex + ir, eye_y + eh * 0.95], fill=iris)
        pr = ir * 0.45
        d.ellipse([ex - pr, eye_y - pr * 1.3, ex + pr, eye_y + pr * 1.3], fill=(20, 15, 20))
        hl = ir * 0.3
        d.ellipse([ex - ir * 0.5 - hl, eye_y - eh * 0.5 - hl, ex - ir * 0.5 + hl, eye_y - eh * 0.5 + hl],
                  fill=(255, 255, 255))
        d.line([(ex - ew * 1.1, eye_y - eh - 2), (ex + ew * 1.1, eye_y - eh - 2)], fill=(30, 20, 20), width=3)
        brow_y = eye_y - eh - hh * rng.uniform(0.1, 0.2)
        d.line([(ex - ew, brow_y + side * 2), (ex + ew, brow_y - side * 2)], fill=hair_dark, width=3)
        if anime and rng.random() < 0.5:  # blush
            blush += 1
            d.ellipse([ex - ew, eye_y + eh * 1.2, ex + ew, eye_y + eh * 1.6], fill=(240, 150, 150))
    # Nose (photo style only) and mouth.
    mouth_y = cy + hh * rng.uniform(0.55, 0.7)
    if not anime:
        d.line([(cx, eye_y + eh), (cx - hw * 0.06, mouth_y - hh * 0.15)], fill=skin_dark, width=3)
    mw = hw * rng.uniform(0.12, 0.3)
    smile = rng.random() < 0.5
    if smile:
        d.arc([cx - mw, mouth_y - mw * 0.6, cx + mw, mouth_y + mw * 0.6], 20, 160, fill=(150, 50, 60), width=3)
    else:
        d.line([(cx - mw, mouth_y), (cx + mw, mouth_y)], fill=(150, 50, 60), width=3)
    img = img.resize((size, size), Image.LANCZOS)
    params = {
        "style": style,
        "hair": label,
        "skin": skin_index,
        "eyes": eye_index,
        "hair_length": int(long_hair),
        "mouth": 0 if smile else 1,
        "blush": blush,
        "hair_rgb": hair,
        "skin_rgb": skin,
        "eye_rgb": iris,
        "background_rgb": background,
        "centre": (cx / s, cy / s),
        "head_half_width": hw / s,
        "head_half_height": hh / s,
        "hair_bottom": hair_bottom / s,
        "eye_y": eye_y / s,
        "mouth_y": mouth_y / s,
    }
    return np.asarray(img, dtype=np.uint8), params


def render_face(rng: np.random.Generator, size: int = 64, style: str = "anime") -> tuple[np.ndarray, int]:
    """One cartoon face, uint8 (size, size, 3), and its hair colour's index in ``HAIR_COLOURS[style]``.

    ``draw_face`` draws the same picture and also returns every parameter it drew.
    """
    image, params = draw_face(rng, size, style)
    return image, params["hair"]


def render_faces(n: int, seed: int = 0, size: int = 64, style: str = "anime") -> tuple[np.ndarray, np.ndarray]:
    """``n`` cartoon faces, uint8 (n, size, size, 3), and their hair-colour labels (n,)."""
    images, attributes = render_labelled_faces(n, seed, size, style)
    return images, attributes["hair"]


def render_labelled_faces(
    n: int, seed: int = 0, size: int = 64, style: str = "anime"
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """``n`` cartoon faces, uint8 (n, size, size, 3), and one int label array (n,) per attribute
    of ``face_attribute_classes(style)``: the same pictures as ``render_faces`` for the same seed.

    The labels train the face classifier behind ``gan_course.metrics.faces``.
    """
    _check_count(n, size)
    rng = np.random.default_rng(seed)
    images = np.empty((n, size, size, 3), np.uint8)
    names = list(face_attribute_classes(style))
    labels = {name: np.empty(n, np.int64) for name in names}
    for i in range(n):
        images[i], params = draw_face(rng, size, style)
        for name in names:
            labels[name][i] = params[name]
    return images, labels


def draw_face_blob(params: dict, size: int) -> np.ndarray:
    """The colour-only version of a face drawn by ``draw_face``: its background, hair mass and
    head in their colours and places, with no eyes, brows, mouth or fringe locks, uint8 (size, size, 3).

    What a GAN's early "face-shaped colour blobs" look like: a score that cannot tell these from
    faces only measures colours and layout.
    """
    from PIL import Image, ImageDraw

    s = size * _SUPERSAMPLE
    img = Image.new("RGB", (s, s), tuple(params["background_rgb"]))
    d = ImageDraw.Draw(img)
    cx, cy = params["centre"][0] * s, params["centre"][1] * s
    hw, hh = params["head_half_width"] * s, params["head_half_height"] * s
    hair, skin = tuple(params["hair_rgb"]), tuple(params["skin_rgb"])
    d.ellipse([cx - hw * 1.25, cy - hh * 1.3, cx + hw * 1.25, cy + hh * 0.6], fill=hair)
    if params["hair_length"]:
        d.rectangle([cx - hw * 1.25, cy - hh * 0.2, cx + hw * 1.25, params["hair_bottom"] * s], fill=hair)
    d.rectangle([cx - hw * 0.35, cy + hh * 0.6, cx + hw * 0.35, s], fill=tuple(int(c * 0.85) for c in skin))
    d.ellipse([cx - hw, cy - hh * 0.45, cx + hw, cy + hh * 0.95], fill=skin)
    img = img.resize((size, size), Image.LANCZOS)
    return np.asarray(img, dtype=np.uint8)


def render_face_blobs(n: int, seed: int = 0, size: int = 64, style: str = "anime") -> np.ndarray:
    """``draw_face_blob`` of each of the ``n`` faces ``render_faces(n, seed, size, style)`` draws:
    the same colours and layout, no facial features. uint8 (n, size, size, 3)."""
    _check_count(n, size)
    rng = np.random.default_rng(seed)
    out = np.empty((n, size, size, 3), np.uint8)
    for i in range(n):
        _, params = draw_face(rng, size, style)
        out[i] = draw_face_blob(params, size)
    return out


def _check_count(n: int, size: int) -> None:
    if int(n) < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    if int(size) < 8:
        raise ValueError(f"size must be at least 8 pixels, got {size}")


# --------------------------------------------------------------------------- writing a folder


def write_image_folder(images: np.ndarray, labels: np.ndarray, class_names, folder, meta: dict | None = None) -> Path:
    """Write ``images`` as PNGs under ``folder/<class name>/NNNNN.png`` (the layout of labelled
    image datasets), then a marker file; ``folder_is_complete`` checks both.

    Writing the marker last means an interrupted write is detected and redone.
    """
    from PIL import Image

    folder = Path(folder)
    class_names = list(class_names)  # a dict gives its keys
    folder.mkdir(parents=True, exist_ok=True)
    (folder / _COMPLETE_FILE).unlink(missing_ok=True)
    for i, (img, label) in enumerate(zip(images, labels)):
        sub = folder / class_names[int(label)]
        sub.mkdir(exist_ok=True)
        Image.fromarray(img[..., 0] if img.shape[-1] == 1 else img).save(sub / f"{i:05d}.png")
    info = {"count": int(len(images)), "classes": list(class_names), **(meta or {})}
    (folder / _COMPLETE_FILE).write_text(json.dumps(info, indent=1))
    return folder


def folder_is_complete(folder, count: int) -> bool:
    """True when ``folder`` holds a finished render of ``count`` images (marker present, files there)."""
    folder = Path(folder)
    marker = folder / _COMPLETE_FILE
    if not marker.is_file():
        return False
    try:
        expected = json.loads(marker.read_text())["count"]
    except (ValueError, KeyError):
        return False
    return expected == count and sum(1 for _ in folder.glob("*/*.png")) == count
