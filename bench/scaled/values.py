"""Deterministic values: random streams, ids, timestamps, names, phone numbers, distributions.

Every table draws from its own stream (``stream(seed, "calls")``), so changing one table's size
leaves the others' values as they were. Phone numbers and Retell call ids are bijections of a
counter: unique by construction, not by luck.
"""

import random
import time
import uuid

# Data ends here (UTC): deterministic, not the machine's clock.
END = 1772236800  # 2026-02-28 00:00:00 UTC
DAY = 86400
YEAR = 365 * DAY

FIRST_NAMES = (
    "Anna", "Ben", "Clara", "David", "Emma", "Felix", "Greta", "Hannah", "Jonas", "Lea",
    "Leon", "Lina", "Luca", "Marie", "Mia", "Noah", "Paul", "Sophie", "Tim", "Zoe",
)  # fmt: skip
LAST_NAMES = (
    "Bauer", "Becker", "Fischer", "Hoffmann", "Koch", "Meyer", "Müller", "Neumann",
    "Richter", "Schäfer", "Schmidt", "Schneider", "Schulz", "Wagner", "Weber", "Wolf",
)  # fmt: skip
TRADES = (
    "Praxis", "Salon", "Kanzlei", "Studio", "Werkstatt", "Zahnarztpraxis", "Physiotherapie",
    "Tierarztpraxis", "Friseur", "Kosmetikstudio",
)  # fmt: skip
CITIES = (
    ("Berlin", "30"), ("Hamburg", "40"), ("München", "89"), ("Köln", "221"),
    ("Frankfurt am Main", "69"), ("Düsseldorf", "211"), ("Stuttgart", "711"),
    ("Dresden", "351"), ("Leipzig", "341"), ("Hannover", "511"),
)  # fmt: skip
MOBILE_PREFIXES = ("151", "157", "170", "176")
# Multipliers coprime with the moduli below: counter -> subscriber number is a bijection.
_STEP = 7919


def stream(seed: int, name: str) -> random.Random:
    """The random stream of one table (str seeds are hashed with SHA-512: stable everywhere)."""
    return random.Random(f"{seed}:{name}")


def new_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def ts(seconds: int) -> str:
    """A TIMESTAMP literal (the session runs in UTC)."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(seconds))


def person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def company_number(k: int) -> tuple[str, str, str]:
    """The k-th company line: (E.164, national area code, subscriber); unique for k < 7e7."""
    _city, area = CITIES[k % len(CITIES)]
    subscriber = str(20_000_000 + (k // len(CITIES)) * _STEP % 70_000_000)
    return f"+49{area}{subscriber}", area, subscriber


def mobile_number(k: int) -> str:
    """The k-th caller's mobile number (E.164); never a company line, unique for k < 3.6e8."""
    prefix = MOBILE_PREFIXES[k % len(MOBILE_PREFIXES)]
    return f"+49{prefix}{10_000_000 + (k // len(MOBILE_PREFIXES)) * _STEP % 90_000_000}"


def unique_hex(k: int, salt: int, digits: int = 32) -> str:
    """A random-looking hex string, unique per k (an odd multiplier mod 2**(4*digits))."""
    modulus = 1 << (4 * digits)
    return format((k * 0x9E3779B97F4A7C15F39CC0605CEDC835 + salt) % modulus, f"0{digits}x")


def distribute(rng: random.Random, parents: list[int], count: int, weights) -> list[int]:
    """The parent of each of ``count`` children, sorted: every parent gets one child when
    there are enough, the rest go by weight; with fewer children than parents, distinct
    parents at random."""
    if not parents or count <= 0:
        return []
    if count < len(parents):
        return sorted(rng.sample(parents, count))
    cumulative, total = [], 0.0
    for parent in parents:
        total += weights[parent]
        cumulative.append(total)
    extra = rng.choices(parents, cum_weights=cumulative, k=count - len(parents))
    return sorted([*parents, *extra])


def partition(rng: random.Random, items: list, shares: dict[str, float]) -> dict:
    """Give a share of ``items`` each kind (at least one item each while items last, unless
    there is only one item); the rest get no kind. Returns {item: kind}."""
    shuffled = list(items)
    rng.shuffle(shuffled)
    chosen, start = {}, 0
    for kind, share in shares.items():
        size = round(share * len(items))
        if share > 0 and len(items) > 1:
            size = max(1, size)
        for item in shuffled[start : start + size]:
            chosen[item] = kind
        start += size
    return chosen


def pick(rng: random.Random, items: list, share: float) -> set:
    """A share of ``items`` (at least one, if there are two or more)."""
    return set(partition(rng, items, {"x": share}))
