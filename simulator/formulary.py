"""The generated part of the simulated formulary: real generic names, stable prices, the
holders a county would give them (injections and non-essential items not at village
clinics, expensive ones at the hospitals only)."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any

from libs.events.catalogue.values import FacilityTier, FacilityType
from simulator.county import Drug

__all__ = ["generated_drugs"]

# Generated catalogue entries: real generic names, so the report and the stock pages read
# naturally. (generic name, dosage form, strength, pack size, unit, price band, essential)
_WESTERN = [
    ("头孢呋辛酯片", "片剂", "0.25g", 12, "盒", 18, True),
    ("克拉霉素片", "片剂", "0.25g", 6, "盒", 14, True),
    ("甲硝唑片", "片剂", "0.2g", 100, "瓶", 4, True),
    ("复方磺胺甲噁唑片", "片剂", "0.48g", 100, "瓶", 6, True),
    ("诺氟沙星胶囊", "胶囊剂", "0.1g", 24, "盒", 5, True),
    ("阿昔洛韦片", "片剂", "0.2g", 24, "盒", 7, True),
    ("奥司他韦胶囊", "胶囊剂", "75mg", 10, "盒", 38, True),
    ("缬沙坦胶囊", "胶囊剂", "80mg", 28, "盒", 12, True),
    ("氯沙坦钾片", "片剂", "50mg", 14, "盒", 9, True),
    ("比索洛尔片", "片剂", "5mg", 10, "盒", 11, True),
    ("非洛地平缓释片", "缓释片", "5mg", 20, "盒", 13, True),
    ("吲达帕胺片", "片剂", "2.5mg", 30, "盒", 6, True),
    ("瑞舒伐他汀钙片", "片剂", "10mg", 28, "盒", 16, True),
    ("辛伐他汀片", "片剂", "20mg", 28, "盒", 7, True),
    ("单硝酸异山梨酯片", "片剂", "20mg", 48, "盒", 8, True),
    ("地高辛片", "片剂", "0.25mg", 100, "瓶", 5, True),
    ("螺内酯片", "片剂", "20mg", 100, "瓶", 6, True),
    ("格列齐德缓释片", "缓释片", "30mg", 30, "盒", 10, True),
    ("格列吡嗪片", "片剂", "5mg", 48, "盒", 5, True),
    ("瑞格列奈片", "片剂", "1mg", 30, "盒", 22, True),
    ("吡格列酮片", "片剂", "15mg", 14, "盒", 15, True),
    ("西格列汀片", "片剂", "100mg", 14, "盒", 42, False),
    ("甘精胰岛素注射液", "注射剂", "300IU:3ml", 1, "支", 68, True),
    ("门冬胰岛素注射液", "注射剂", "300IU:3ml", 1, "支", 55, True),
    ("雷贝拉唑钠肠溶片", "肠溶片", "10mg", 14, "盒", 19, True),
    ("泮托拉唑钠肠溶片", "肠溶片", "40mg", 7, "盒", 12, True),
    ("法莫替丁片", "片剂", "20mg", 24, "盒", 4, True),
    ("多潘立酮片", "片剂", "10mg", 30, "盒", 8, True),
    ("铝碳酸镁咀嚼片", "咀嚼片", "0.5g", 20, "盒", 11, True),
    ("双歧杆菌三联活菌胶囊", "胶囊剂", "210mg", 24, "盒", 17, False),
    ("乳果糖口服溶液", "口服溶液", "100ml", 1, "瓶", 24, True),
    ("开塞露", "外用液体", "20ml", 10, "盒", 6, True),
    ("双氯芬酸钠缓释片", "缓释片", "75mg", 10, "盒", 9, True),
    ("塞来昔布胶囊", "胶囊剂", "0.2g", 6, "盒", 21, False),
    ("氨酚烷胺胶囊", "胶囊剂", "复方", 12, "盒", 8, False),
    ("西替利嗪片", "片剂", "10mg", 12, "盒", 9, True),
    ("孟鲁司特钠片", "片剂", "10mg", 5, "盒", 26, True),
    ("氨溴索片", "片剂", "30mg", 20, "盒", 7, True),
    ("复方甘草片", "片剂", "复方", 100, "瓶", 5, True),
    ("右美沙芬片", "片剂", "15mg", 24, "盒", 6, False),
    ("噻托溴铵粉吸入剂", "吸入粉雾剂", "18μg", 10, "盒", 88, False),
    ("甲钴胺片", "片剂", "0.5mg", 20, "盒", 18, True),
    ("维生素B1片", "片剂", "10mg", 100, "瓶", 3, True),
    ("叶酸片", "片剂", "0.4mg", 31, "盒", 5, True),
    ("碳酸钙D3片", "片剂", "600mg", 30, "瓶", 19, True),
    ("硫酸亚铁片", "片剂", "0.3g", 100, "瓶", 4, True),
    ("别嘌醇片", "片剂", "0.1g", 100, "瓶", 7, True),
    ("非布司他片", "片剂", "40mg", 16, "盒", 36, False),
    ("泼尼松片", "片剂", "5mg", 100, "瓶", 5, True),
    ("甲泼尼龙片", "片剂", "4mg", 30, "盒", 23, True),
    ("艾司唑仑片", "片剂", "1mg", 20, "盒", 4, True),
    ("舍曲林片", "片剂", "50mg", 14, "盒", 32, True),
    ("奥氮平片", "片剂", "5mg", 14, "盒", 45, True),
    ("卡马西平片", "片剂", "0.1g", 100, "瓶", 12, True),
    ("丙戊酸钠缓释片", "缓释片", "0.5g", 30, "盒", 49, True),
    ("多奈哌齐片", "片剂", "5mg", 14, "盒", 58, False),
    ("坦索罗辛缓释胶囊", "缓释胶囊", "0.2mg", 10, "盒", 27, True),
    ("非那雄胺片", "片剂", "5mg", 10, "盒", 31, False),
    ("红霉素软膏", "软膏剂", "1%", 1, "支", 3, True),
    ("莫匹罗星软膏", "软膏剂", "2%", 1, "支", 15, True),
    ("氯霉素滴眼液", "滴眼剂", "8ml", 1, "支", 2, True),
    ("左氧氟沙星滴眼液", "滴眼剂", "5ml", 1, "支", 16, True),
    ("注射用青霉素钠", "注射剂", "80万单位", 1, "支", 1, True),
    ("注射用头孢唑林钠", "注射剂", "1.0g", 1, "支", 4, True),
    ("注射用阿莫西林克拉维酸钾", "注射剂", "1.2g", 1, "支", 9, True),
    ("注射用哌拉西林他唑巴坦", "注射剂", "4.5g", 1, "支", 28, False),
    ("注射用万古霉素", "注射剂", "0.5g", 1, "支", 62, False),
    ("地塞米松磷酸钠注射液", "注射剂", "5mg", 1, "支", 1, True),
    ("盐酸利多卡因注射液", "注射剂", "0.1g", 1, "支", 1, True),
    ("肝素钠注射液", "注射剂", "12500单位", 1, "支", 12, True),
    ("低分子肝素钙注射液", "注射剂", "4100IU", 1, "支", 24, True),
    ("胺碘酮注射液", "注射剂", "0.15g", 1, "支", 18, True),
    ("硝酸甘油注射液", "注射剂", "5mg", 1, "支", 3, True),
    ("注射用阿替普酶", "注射剂", "50mg", 1, "支", 4500, False),
    ("盐酸肾上腺素注射液", "注射剂", "1mg", 1, "支", 2, True),
    ("呋塞米注射液", "注射剂", "20mg", 1, "支", 1, True),
    ("甘露醇注射液", "注射剂", "250ml", 1, "瓶", 6, True),
    ("复方氯化钠注射液", "注射剂", "500ml", 1, "瓶", 4, True),
    ("10%氯化钾注射液", "注射剂", "10ml", 1, "支", 1, True),
    ("碳酸氢钠注射液", "注射剂", "250ml", 1, "瓶", 5, True),
    ("盐酸曲马多缓释片", "缓释片", "0.1g", 10, "盒", 19, True),
    ("硫酸吗啡注射液", "注射剂", "10mg", 1, "支", 8, True),
    ("盐酸哌替啶注射液", "注射剂", "50mg", 1, "支", 6, True),
    ("苯巴比妥钠注射液", "注射剂", "0.1g", 1, "支", 2, True),
    ("奥美拉唑注射液", "注射剂", "40mg", 1, "支", 15, True),
    ("昂丹司琼注射液", "注射剂", "8mg", 1, "支", 11, True),
    ("华法林钠片(3mg)", "片剂", "3mg", 60, "瓶", 12, True),
    ("利伐沙班片", "片剂", "10mg", 5, "盒", 52, False),
    ("替格瑞洛片", "片剂", "90mg", 14, "盒", 48, False),
    ("沙库巴曲缬沙坦钠片", "片剂", "100mg", 14, "盒", 78, False),
    ("恩格列净片", "片剂", "10mg", 10, "盒", 55, False),
    ("达格列净片", "片剂", "10mg", 14, "盒", 60, False),
    ("阿法骨化醇软胶囊", "软胶囊", "0.25μg", 20, "盒", 25, True),
    ("琥珀酸亚铁片", "片剂", "0.1g", 24, "盒", 9, True),
    ("蒙脱石混悬液", "混悬液", "90ml", 1, "瓶", 18, False),
]
_TCM_PATENT = [
    ("银翘解毒片", "片剂", "0.5g", 36, "盒", 8),
    ("感冒清热颗粒", "颗粒剂", "12g", 10, "盒", 12),
    ("双黄连口服液", "合剂", "10ml", 10, "盒", 15),
    ("蒲地蓝消炎口服液", "合剂", "10ml", 10, "盒", 28),
    ("清开灵颗粒", "颗粒剂", "3g", 12, "盒", 14),
    ("通心络胶囊", "胶囊剂", "0.26g", 30, "盒", 39),
    ("脑心通胶囊", "胶囊剂", "0.4g", 48, "盒", 42),
    ("稳心颗粒", "颗粒剂", "9g", 9, "盒", 33),
    ("速效救心丸", "滴丸剂", "40mg", 60, "瓶", 18),
    ("银杏叶片", "片剂", "9.6mg", 24, "盒", 19),
    ("消渴丸", "丸剂", "2.5g", 120, "瓶", 16),
    ("津力达颗粒", "颗粒剂", "9g", 9, "盒", 46),
    ("香砂养胃丸", "丸剂", "9g", 10, "盒", 11),
    ("保和丸", "丸剂", "6g", 10, "盒", 8),
    ("逍遥丸", "丸剂", "9g", 10, "盒", 10),
    ("归脾丸", "丸剂", "9g", 10, "盒", 13),
    ("补中益气丸", "丸剂", "6g", 10, "盒", 12),
    ("金匮肾气丸", "丸剂", "5g", 20, "盒", 17),
    ("知柏地黄丸", "丸剂", "0.18g", 200, "瓶", 15),
    ("杞菊地黄丸", "丸剂", "0.18g", 200, "瓶", 15),
    ("颈复康颗粒", "颗粒剂", "5g", 10, "盒", 23),
    ("独活寄生丸", "丸剂", "6g", 10, "盒", 14),
    ("云南白药气雾剂", "气雾剂", "85g", 1, "盒", 36),
    ("伤湿止痛膏", "贴膏剂", "7cm×10cm", 10, "盒", 6),
    ("麝香壮骨膏", "贴膏剂", "7cm×10cm", 10, "盒", 9),
    ("急支糖浆", "糖浆剂", "100ml", 1, "瓶", 9),
    ("川贝枇杷膏", "煎膏剂", "150ml", 1, "瓶", 22),
    ("橘红丸", "丸剂", "6g", 10, "盒", 10),
    ("三九胃泰颗粒", "颗粒剂", "20g", 6, "盒", 13),
    ("气滞胃痛颗粒", "颗粒剂", "5g", 9, "盒", 16),
    ("丹参片", "片剂", "0.3g", 100, "瓶", 9),
    ("复方血栓通胶囊", "胶囊剂", "0.5g", 36, "盒", 44),
    ("血府逐瘀口服液", "合剂", "10ml", 12, "盒", 31),
    ("乌鸡白凤丸", "丸剂", "9g", 10, "盒", 18),
    ("六味地黄丸(水蜜丸)", "丸剂", "6g", 10, "盒", 11),
    ("舒筋活血片", "片剂", "0.37g", 100, "瓶", 12),
]
_TCM_HERBAL = [
    ("党参饮片", "党参", 96),
    ("白术饮片", "白术", 72),
    ("茯苓饮片", "茯苓", 64),
    ("川芎饮片", "川芎", 88),
    ("白芍饮片", "白芍", 76),
    ("熟地黄饮片", "熟地黄", 58),
    ("枸杞子饮片", "枸杞子", 110),
    ("陈皮饮片", "陈皮", 45),
    ("半夏饮片", "半夏", 160),
    ("丹参饮片", "丹参", 52),
    ("金银花饮片", "金银花", 240),
    ("连翘饮片", "连翘", 98),
    ("柴胡饮片", "柴胡", 135),
    ("桂枝饮片", "桂枝", 36),
    ("麦冬饮片", "麦冬", 128),
]
_CONSUMABLES = [
    ("一次性使用输液器", "输液器", "带针", 50, "盒", 45),
    ("医用棉签", "棉签", "10cm", 100, "包", 5),
    ("医用纱布块", "纱布", "7.5cm×7.5cm", 100, "包", 18),
    ("一次性使用静脉留置针", "留置针", "22G", 50, "盒", 120),
    ("医用检查手套", "手套", "M", 100, "盒", 32),
]


def _price(code: str, band: float) -> Decimal:
    """A stable price near ``band`` yuan, from the code (same code, same price)."""
    wobble = int(hashlib.sha256(code.encode()).hexdigest()[:4], 16) / 0xFFFF  # 0..1
    return (Decimal(str(band)) * Decimal(str(0.85 + 0.3 * wobble))).quantize(Decimal("0.0001"))


_ALL_TIERS = tuple(FacilityTier)
_EVERYONE = tuple(FacilityType)
_NO_VILLAGE = tuple(t for t in FacilityType if t is not FacilityType.VILLAGE_CLINIC)
_HOSPITALS = (FacilityType.COUNTY_HOSPITAL, FacilityType.TCM_HOSPITAL)


def _item(code: str, band: float, **fields: Any) -> Drug:
    """One generated item: what every kind has in common (its stable price, never seeded),
    the rest as the kind says."""
    fields.setdefault("allowed_tiers", _ALL_TIERS)
    return Drug(drug_code=code, unit_price=_price(code, band), seeded=False, **fields)


def _packaged(
    code: str, name: str, form: str, strength: str, pack: int, unit: str, band: float, **kind: Any
) -> Drug:
    """An item sold in packs (all but the herbal pieces): a catalogue row's fields, then
    what its kind says."""
    return _item(
        code,
        band,
        name=name,
        dosage_form=form,
        strength=strength,
        pack_size=pack,
        unit=unit,
        **kind,
    )


def _western() -> list[Drug]:
    """Western medicines. Injections and non-essential ones are kept from village clinics;
    expensive non-essential ones are for the hospitals (secondary and tertiary) only."""
    made = []
    for i, (name, form, strength, pack, unit, band, essential) in enumerate(_WESTERN, 1):
        restricted = "注射" in form or not essential
        expensive = band >= 60 and not essential
        holders = _HOSPITALS if expensive else _NO_VILLAGE if restricted else _EVERYONE
        tiers = (FacilityTier.SECONDARY, FacilityTier.TERTIARY) if expensive else _ALL_TIERS
        made.append(
            _packaged(
                f"QSS-W{i:03d}",
                name,
                form,
                strength,
                pack,
                unit,
                band,
                essential=essential,
                tcm=False,
                category="drug",
                allowed_tiers=tiers,
                allowed_facility_types=holders,
            )
        )
    return made


def _tcm_patent() -> list[Drug]:
    """Chinese patent medicines: all on the essential list, anywhere in the county."""
    return [
        _packaged(
            f"QSS-Z{i:03d}",
            *row,
            essential=True,
            tcm=True,
            category="drug",
            allowed_facility_types=_EVERYONE,
        )
        for i, row in enumerate(_TCM_PATENT, 1)
    ]


def _tcm_herbal() -> list[Drug]:
    """Herbal pieces, sold by the kilogram bag; village clinics do not dispense them."""
    return [
        _item(
            f"QSS-Y{i:03d}",
            band,
            name=name,
            dosage_form="饮片",
            strength="1kg",
            pack_size=1,
            unit="袋",
            essential=False,
            tcm=True,
            category="drug",
            allowed_facility_types=_NO_VILLAGE,
            generic_name=generic,
        )
        for i, (name, generic, band) in enumerate(_TCM_HERBAL, 1)
    ]


def _consumables() -> list[Drug]:
    """Consumables: not prescribed, but stocked and transferred like the rest."""
    return [
        _packaged(
            f"QSS-H{i:03d}",
            *row,
            essential=False,
            tcm=False,
            category="consumable",
            allowed_facility_types=_EVERYONE,
        )
        for i, row in enumerate(_CONSUMABLES, 1)
    ]


def generated_drugs(count: int) -> list[Drug]:
    # Interleave the kinds so that a smaller formulary keeps every kind of item.
    queues = [_western(), _tcm_patent(), _tcm_herbal(), _consumables()]
    weights = (6, 3, 1, 1)  # about the kinds' shares of the generated list
    ordered: list[Drug] = []
    while any(queues):
        for queue, weight in zip(queues, weights, strict=True):
            ordered.extend(queue[:weight])
            del queue[:weight]
    return ordered[: max(0, count)]
