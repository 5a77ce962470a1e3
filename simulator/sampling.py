"""Drawing from distributions, and made-up people, for the plan (pure, seeded)."""

from __future__ import annotations

import math
import random
from datetime import date, timedelta
from decimal import Decimal

from libs.events.catalogue.values import AgeBand
from simulator.acts import CENT, Knobs, Patient
from simulator.clock import HOURLY_WEIGHTS, SimClock

# --- people --------------------------------------------------------------------------------

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"  # noqa: E501
_GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英建华玉兰志强国庆春梅海燕文博德明淑芬永康"
)


def resident_id(rng: random.Random, area: str = "320412", born: date | None = None) -> str:
    """A well-formed 18-character resident identity number (GB 11643 check digit), of a
    person born on ``born`` (else a day from 1935 to 2019)."""
    if born is None:
        born = date(1935, 1, 1) + timedelta(days=rng.randrange(0, 365 * 85))
    body = f"{area}{born:%Y%m%d}{rng.randrange(0, 1000):03d}"
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True)) % 11]
    return body + check


def patients(rng: random.Random, count: int, today: date, knobs: Knobs) -> list[Patient]:
    """``count`` people, their ages drawn from the knobs' age bands on ``today``, and what
    their HIS records of pregnancy (women of 15-49 only)."""
    people: list[Patient] = []
    seen: set[str] = set()
    while len(people) < count:
        nid = resident_id(rng, born=_birth_date(rng, today, knobs))
        if nid in seen:
            continue
        seen.add(nid)
        name = rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(rng.randint(1, 2)))
        people.append(Patient(nid, name, _pregnancy(rng, Patient(nid, name), today, knobs)))
    return people


def _birth_date(rng: random.Random, today: date, knobs: Knobs) -> date:
    band = rng.choices(list(AgeBand), weights=knobs.age_band_shares)[0]
    oldest = min(band.below_years, 95)
    days = rng.uniform(band.from_years * 365.25, oldest * 365.25 - 1)
    return today - timedelta(days=int(days))


def _pregnancy(rng: random.Random, person: Patient, today: date, knobs: Knobs) -> bool | None:
    age = (today - person.born).days // 365
    if not person.female or not 15 <= age <= 49:
        return None
    if rng.random() >= knobs.pregnancy_recorded_share:
        return None
    return rng.random() < knobs.pregnant_share


# --- helpers -------------------------------------------------------------------------------


def count(rng: random.Random, mean: float, minimum: int = 0) -> int:
    """A Poisson-ish count around ``mean`` (normal approximation, never below ``minimum``)."""
    if mean <= 0:
        return minimum
    drawn = round(rng.gauss(mean, math.sqrt(mean))) if mean > 20 else poisson(rng, mean)
    return max(minimum, drawn)


def poisson(rng: random.Random, mean: float) -> int:
    limit, k, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def instants(rng: random.Random, clock: SimClock, n: int, *, flat: bool = False) -> list[float]:
    """``n`` offsets drawn from the day's shape (or uniformly), sorted."""
    slots = clock.hourly_slots()
    weights = [(to - fro) if flat else w for fro, to, w in slots]
    if not any(weights):
        weights = [to - fro for fro, to, _ in slots]
    picks = rng.choices(slots, weights=weights, k=n)
    return sorted(rng.uniform(fro, to) for fro, to, _ in picks)


def zipf(n: int, s: float = 0.9) -> list[float]:
    return [1.0 / (rank + 1) ** s for rank in range(n)]


def money(rng: random.Random, low: float, high: float) -> Decimal:
    return Decimal(str(round(rng.uniform(low, high), 2))).quantize(CENT)


DIAGNOSES = {
    "cardiology": ["I10", "I20.0", "I25.1", "I48.9"],
    "neurology": ["I63.9", "G43.9", "G45.9"],
    "emergency medicine": ["R07.4", "T14.9", "R55"],
    "general surgery": ["K35.8", "K80.2", "K40.9"],
    "orthopaedics": ["M54.5", "S72.0", "M17.9"],
    "endocrinology": ["E11.9", "E03.9", "E78.5"],
    "respiratory medicine": ["J18.9", "J44.1", "J45.9"],
    "TCM internal medicine": ["K29.7", "R51", "I10"],
    "acupuncture": ["M54.2", "G51.0"],
    "rehabilitation": ["I69.3", "Z50.9"],
}
PRIMARY_DIAGNOSES = ["J06.9", "I10", "E11.9", "K29.7", "M54.5", "J20.9", "R51", "A09.9"]


def busy_days(clock: SimClock) -> float:
    """The period's length in days, weighted by the day's shape (two peak hours count for
    more than a night)."""
    return sum(w for _, _, w in clock.hourly_slots()) / sum(HOURLY_WEIGHTS)
