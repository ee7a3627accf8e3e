"""A lesson's measured number next to the range its text expects.

A lesson's markdown never types what its own run measured; it states what to expect, as a range at
the cpu preset (the preset students run), and the cell after the run calls ``expect``, which prints
the measured value and whether it landed in that range. The text stays true when the code changes,
and a change that moves a result out of its range shows in the lesson's output.
"""

from __future__ import annotations

__all__ = ["expect"]


def expect(what: str, value: float, low: float, high: float, preset=None) -> bool | None:
    """Print ``value`` next to the range [low, high] that the lesson expects at the cpu preset.

    Returns True or False at the cpu preset (in the range or not) and None elsewhere: at smoke, or
    under the step cap (``GAN_COURSE_STEP_CAP``), runs are seconds long and their numbers mean
    nothing; at gpu the range was not set for that preset. ``preset`` defaults to the one
    ``presets.get_preset()`` reads from ``GAN_COURSE_PRESET``, as a lesson's parameters cell does.
    """
    if preset is None:
        from gan_course.presets import get_preset

        preset = get_preset()
    if low > high:
        raise ValueError(f"expect({what!r}): low {low} is above high {high}; give the range as (low, high).")
    if preset.name == "smoke" or getattr(preset, "step_cap", None) is not None:
        print(f"{what}: got {value:.3g} (at the {preset.name} preset{' under the step cap' if preset.step_cap else ''} "
              "the numbers mean nothing)")
        return None
    if preset.name != "cpu":
        print(f"{what}: got {value:.3g} (the range [{low:g}, {high:g}] was set for the cpu preset)")
        return None
    inside = low <= value <= high
    verdict = "as expected" if inside else "OUTSIDE the expected range: see the text above"
    print(f"expected {what} in [{low:g}, {high:g}]: got {value:.3g}, {verdict}")
    return inside
