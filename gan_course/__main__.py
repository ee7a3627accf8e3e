import sys

from gan_course.cli import main


def several_devices():
    """``--strategy mirrored`` / ``multiworker``: ``gan_course.speed.distributed`` places the run
    (imported only then: the core's CLI trains on one device without it)."""
    from gan_course.speed import distributed

    return distributed


sys.exit(main(several_devices=several_devices))
