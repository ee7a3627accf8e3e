"""``python -m gan_course`` and the ``gan-course`` command: the core's CLI (``cli.main``), given the
several-device placement of ``gan_course.speed`` from here, outside the core."""

import sys

from gan_course import cli


def several_devices():
    """``--strategy mirrored`` / ``multiworker``: ``gan_course.speed.distributed`` places the run
    (imported only then: the core's CLI trains on one device without it)."""
    from gan_course.speed import distributed

    return distributed


def main(argv=None) -> int:
    return cli.main(argv, several_devices=several_devices)


if __name__ == "__main__":
    sys.exit(main())
