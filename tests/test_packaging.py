"""``pip install .`` (not editable) gives a working course: the data files travel in the wheel.

The wheel is built from this checkout and installed into a fresh virtual environment that borrows
only the third-party packages of the current one (a ``.pth`` line; the checkout's own editable
install is not visible there). Run from an empty folder, the installed copy must score a generator
with the classifier weights and reference values it carries, and check an exercise answer against
the flashcards it carries.
"""

import subprocess
import sys
import sysconfig
import textwrap
import venv

WORKS = textwrap.dedent(
    """
    import gan_course, pathlib, sys
    here = pathlib.Path(gan_course.__file__).resolve()
    assert "site-packages" in here.parts and sys.argv[1] not in str(here), here
    from gan_course import metrics, models
    from gan_course.teaching import exercises, flashcards
    g = models.dcgan_generator(16, (28, 28, 1), width=8)
    real = metrics.sample_images(g, 50, seed=1)
    scores = metrics.score_generator(g, real, n=50, kid_subset_size=25)
    assert scores.n_samples == 50 and scores.fid >= 0
    assert set(metrics.reference_values()) >= {"real_vs_real", "untrained_generator"}
    deck = flashcards.load_deck()
    assert len(deck) >= 6, sorted(deck)
    assert exercises.check("00-optimal-d", 0.8) and not exercises.check("00-optimal-d", 0.5)
    print("installed course works")
    """
)


def test_a_wheel_installed_into_a_fresh_environment_works(tmp_path):
    root = __import__("pathlib").Path(__file__).resolve().parents[1]
    wheels = tmp_path / "wheels"
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels), str(root)],
        capture_output=True, text=True, timeout=300,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    wheel = next(wheels.glob("gan_course-*.whl"))

    env_dir = tmp_path / "fresh"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    fresh_site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                capture_output=True, text=True, check=True).stdout.strip()
    # Third-party packages from the current environment, added after the fresh site-packages.
    (__import__("pathlib").Path(fresh_site) / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", fresh_site, str(wheel)],
        capture_output=True, text=True, timeout=300,
    )
    assert installed.returncode == 0, installed.stderr[-3000:]

    run_dir = tmp_path / "elsewhere"
    run_dir.mkdir()
    done = subprocess.run([python, "-c", WORKS, str(root)], cwd=run_dir, capture_output=True, text=True, timeout=300,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "GAN_COURSE_OFFLINE": "1",
                               "GAN_COURSE_CACHE": str(tmp_path / "cache"), "MPLBACKEND": "Agg"})
    assert done.returncode == 0, done.stderr[-3000:]
    assert "installed course works" in done.stdout
