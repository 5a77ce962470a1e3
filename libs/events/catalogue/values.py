"""Code lists shared by several domains' events (the glossary is ../shared/domain.md)."""

from __future__ import annotations

from enum import StrEnum


class FacilityTier(StrEnum):
    """Care level, which decides the insurance reimbursement ratio."""

    PRIMARY = "primary"  # 基层: township and community centres, village clinics
    SECONDARY = "secondary"  # 二级: most county hospitals
    TERTIARY = "tertiary"  # 三级


class FacilityType(StrEnum):
    COUNTY_HOSPITAL = "county_hospital"  # 县人民医院 (lead hospital, 牵头医院)
    TCM_HOSPITAL = "tcm_hospital"  # 县中医院
    TOWNSHIP_CENTRE = "township_centre"  # 乡镇卫生院
    COMMUNITY_CENTRE = "community_centre"  # 社区卫生服务中心
    VILLAGE_CLINIC = "village_clinic"  # 村卫生室


class InsuranceType(StrEnum):
    URBAN_EMPLOYEE = "urban_employee"  # 城镇职工医保
    URBAN_RURAL_RESIDENT = "urban_rural_resident"  # 城乡居民医保
    SELF_PAY = "self_pay"  # 自费


class VisitType(StrEnum):
    OUTPATIENT = "outpatient"
    EMERGENCY = "emergency"
    INPATIENT = "inpatient"


class PrescriptionCategory(StrEnum):
    WESTERN = "western"  # 西药
    TCM_PATENT = "tcm_patent"  # 中成药
    TCM_HERBAL = "tcm_herbal"  # 中药饮片


class AgeBand(StrEnum):
    """The patient's age as the contraindication rules need it, never the birth date: the
    bands' edges (1, 12, 18, 65 years) are the ages the rules name (儿童, 未成年人, 老年人)."""

    INFANT = "infant"  # under 1 year (婴儿)
    CHILD = "child"  # 1 to 11 (儿童)
    ADOLESCENT = "adolescent"  # 12 to 17 (青少年)
    ADULT = "adult"  # 18 to 64
    ELDERLY = "elderly"  # 65 and over (老年人)

    @property
    def below_years(self) -> int:
        """The age every patient in the band is younger than (130 for the open top band)."""
        return {"infant": 1, "child": 12, "adolescent": 18, "adult": 65, "elderly": 130}[self.value]

    @property
    def from_years(self) -> int:
        return {"infant": 0, "child": 1, "adolescent": 12, "adult": 18, "elderly": 65}[self.value]


class TestKind(StrEnum):
    """What a member's laboratory or imaging system reports (检查检验)."""

    __test__ = False  # a code list, not a pytest class

    LABORATORY = "laboratory"  # 检验 (LIS)
    IMAGING = "imaging"  # 检查 (PACS, ECG)


class ItemCategory(StrEnum):
    """The catalogue covers drugs and also consumables and devices (药械)."""

    DRUG = "drug"
    CONSUMABLE = "consumable"
    DEVICE = "device"


class StaffTitle(StrEnum):
    CHIEF = "chief"  # 主任医师 (正高)
    ASSOCIATE_CHIEF = "associate_chief"  # 副主任医师 (副高)
    ATTENDING = "attending"  # 主治医师
    RESIDENT = "resident"  # 住院医师


class HalfDay(StrEnum):
    MORNING = "morning"
    AFTERNOON = "afternoon"


class ReferralDirection(StrEnum):
    UP = "up"  # 上转: clinic → county hospital
    DOWN = "down"  # 下转: hospital → clinic, with a follow-up plan


class ReferralPriority(StrEnum):
    ROUTINE = "routine"
    URGENT = "urgent"
    EMERGENCY = "emergency"


class GreenChannel(StrEnum):
    CHEST_PAIN = "chest_pain"  # 胸痛
    STROKE = "stroke"  # 卒中
    TRAUMA = "trauma"  # 创伤
