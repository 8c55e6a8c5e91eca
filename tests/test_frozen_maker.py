"""`payerpolicy._frozen.maker`: objects made quickly are the objects the constructor makes, and stay frozen."""

from __future__ import annotations

import dataclasses
import datetime
import pickle

import pytest

from payerpolicy._frozen import maker
from payerpolicy.claims.model import ServiceLine, UnreadableClaim
from payerpolicy.decision import Decision, LineDecision

DATE = datetime.date(2026, 3, 2)


@pytest.mark.parametrize(
    "cls, fields",
    [
        (ServiceLine, (1, "97110", DATE, 2, ("GP",), 30, (), 70.0, (1,), None, "11", None)),  # slotted
        (LineDecision, (1, "97110", 2, 2, "accepted", ("GP",), "2026-03-02", None, None)),  # a plain __dict__
        (Decision, ("C-1", {"payer": "medicare"}, "accepted", (), (), (), "", {})),
    ],
)
def test_made_quickly_is_made_alike(cls, fields):
    quick, built = maker(cls)(*fields), cls(*fields)
    assert type(quick) is cls
    assert quick == built and repr(quick) == repr(built)
    assert pickle.loads(pickle.dumps(quick)) == built
    if cls.__hash__ is not None and cls is not Decision:
        assert hash(quick) == hash(built)
    for field in dataclasses.fields(cls):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(quick, field.name, None)
    assert getattr(quick, field.name) == getattr(built, field.name)


def test_a_class_that_checks_its_fields_is_refused():
    with pytest.raises(TypeError, match="__post_init__"):
        maker(UnreadableClaim)  # it refuses an unreadable claim without problems: only its constructor may make it
