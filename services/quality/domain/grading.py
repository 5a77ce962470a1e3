"""Antibiotic grading (抗菌药物分级管理): the three grades and their order.

The grades are nested: whoever may prescribe a grade may prescribe every lower one, and a
facility allowed a grade holds the lower ones too. So a title's privilege and a facility's
allowance are each one grade, "the highest it may", and a check is one comparison.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["LOWEST_GRADE", "AntibioticGrade", "exceeds"]


class AntibioticGrade(StrEnum):
    NON_RESTRICTED = "non_restricted"  # 非限制使用级
    RESTRICTED = "restricted"  # 限制使用级
    SPECIAL = "special"  # 特殊使用级

    @property
    def rank(self) -> int:
        """0 for non-restricted up to 2 for special use."""
        return _ORDER.index(self)

    @property
    def label(self) -> str:
        """The grade's name in the county's catalogue, for messages."""
        return _LABELS[self]


_ORDER = (AntibioticGrade.NON_RESTRICTED, AntibioticGrade.RESTRICTED, AntibioticGrade.SPECIAL)
_LABELS = {
    AntibioticGrade.NON_RESTRICTED: "non-restricted (非限制使用级)",
    AntibioticGrade.RESTRICTED: "restricted (限制使用级)",
    AntibioticGrade.SPECIAL: "special-use (特殊使用级)",
}

#: What an unknown prescriber or an unlisted facility type is allowed: the least, so a gap in
#: the registry or in the rules can hold a prescription but never let one through.
LOWEST_GRADE = AntibioticGrade.NON_RESTRICTED


def exceeds(grade: AntibioticGrade, allowed: AntibioticGrade) -> bool:
    """Whether ``grade`` is above the highest grade ``allowed``."""
    return grade.rank > allowed.rank
