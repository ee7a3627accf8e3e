import pytest

from gan_course.expectations import expect
from gan_course.presets import get_preset


def test_expect_judges_only_at_the_cpu_preset(capsys, monkeypatch):
    monkeypatch.delenv("GAN_COURSE_STEP_CAP", raising=False)
    cpu = get_preset("cpu")
    assert expect("FID", 7.4, 0, 15, cpu) is True
    assert "got 7.4, as expected" in capsys.readouterr().out
    assert expect("FID", 43.0, 0, 15, cpu) is False
    assert "OUTSIDE the expected range" in capsys.readouterr().out
    assert expect("FID", 400.0, 0, 15, get_preset("smoke")) is None
    assert "mean nothing" in capsys.readouterr().out
    assert expect("FID", 4.0, 0, 15, get_preset("gpu")) is None
    assert "set for the cpu preset" in capsys.readouterr().out
    monkeypatch.setenv("GAN_COURSE_STEP_CAP", "2")
    assert expect("FID", 400.0, 0, 15, get_preset("cpu")) is None
    assert "under the step cap" in capsys.readouterr().out


def test_a_reversed_range_is_an_error():
    with pytest.raises(ValueError, match="low 15 is above high 0"):
        expect("FID", 7.0, 15, 0, get_preset("cpu"))
