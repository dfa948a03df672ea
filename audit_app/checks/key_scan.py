"""The stored keys read once per audit run, for the three key checks (audit_app/checks/keys.py),
in a few bytes a key instead of every key and payload held (issue 13).

One streamed pass per table (audit_app/streaming.py), in the order the checks report: each
stored value opened once, and of what it opens to only a 64-bit digest of its fingerprint HMAC
kept (fingerprint_digest: ~17 bytes a key in arrays, ~20 MiB -> ~1 MiB at 10,000 companies),
never the key or the payload; the arrays are dropped after the pass. What the checks report is
kept as found (a few hundred bytes a reported row): the unreadable rows (AUD-KEY-001), the
integrations whose key differs from their company's (AUD-KEY-002), the keys held by several
companies (AUD-KEY-003).
While a stream is read the connection runs no other query: the names of the companies sharing
a key are read after both passes.
"""

from array import array
from bisect import bisect_left
from dataclasses import dataclass, field
from itertools import groupby

from django.db.models import Q

from audit_app.checks.credentials import INTEGRATION_OF_LIVE_COMPANY, gateway_encrypter
from audit_app.registry import shared
from audit_app.streaming import stream
from integrations_app.crypto.encrypter import RAW, SERIALIZED
from integrations_app.crypto.errors import DecryptionError
from integrations_app.crypto.fingerprint import fingerprint_digester
from integrations_app.integration_kinds import CALCOM, RETELL
from integrations_app.models import Company, Integration
from integrations_app.models.integrations import counts_as_active

# The companies columns the gateway reads with decrypt() (serialized flavour).
COMPANY_KEY_COLUMNS = Company.encrypted_columns(SERIALIZED)
# The integrations columns the gateway reads with decryptString() (raw flavour).
INTEGRATION_KEY_COLUMNS = Integration.encrypted_columns()
# Where a key is held, as the checks name it; a key's place is kept as its index here.
HELD_IN = (
    *(f"companies.{column}" for column in COMPANY_KEY_COLUMNS),
    "companies.calcom_v2_api_key",  # plain text, read as it is
    *(f"integrations.{column}" for column in INTEGRATION_KEY_COLUMNS),
)
_V2 = len(COMPANY_KEY_COLUMNS)
_COMPANY_PLACES = _V2 + 1
# The company keys an active integration's API key is compared with (AUD-KEY-002).
COMPARED = {
    CALCOM.provider: (HELD_IN.index("companies.calcom_api_key"), _V2),
    RETELL.provider: (HELD_IN.index("companies.retell_api_key"),),
}
# A problem of a value stored in the other flavour (DecryptionError's reasons are the others).
WRONG_FORMAT = "wrong_format"
# Rows converted per fetch: a row carries up to five payloads of ~300 bytes (~1 MiB a chunk of
# 2,000 with Django's row dicts); 500 keeps the pass's own peak under 1 MiB at no measurable cost.
_CHUNK = 500
# Digests sorted per part of at most about this many when looking for shared keys: the sort's
# list stays this size whatever the number of keys.
_PART = 2048


@dataclass
class KeyScan:
    # (table, pk, name or (provider, name, company name), ((column, problem), ...))
    unreadable: list = field(default_factory=list)
    # ((provider, name, company name), pk, API key digest, ((place, digest), ...))
    diverging: list = field(default_factory=list)
    # (digest, {company_id: (name, index read first, {place, ...})}) in the order first read
    shared_keys: list = field(default_factory=list)


def key_scan() -> KeyScan:
    """The pass, once per audit run (the three key checks share it)."""
    return shared("key-scan", _scan)


def _scan() -> KeyScan:
    scan = _Pass()
    companies = (
        Company.objects.filter(
            Q(calcom_api_key__gt="") | Q(retell_api_key__gt="") | Q(calcom_v2_api_key__gt="")
        )
        .order_by("name", "id")
        .values("id", "name", "calcom_v2_api_key", *COMPANY_KEY_COLUMNS)
    )
    for row in stream(companies, _CHUNK):
        scan.company(row)
    scan.of_company.index()
    having = Q()
    for column in INTEGRATION_KEY_COLUMNS:
        having |= Q(**{f"{column}__gt": ""})
    integrations = (
        Integration.objects.filter(INTEGRATION_OF_LIVE_COMPANY)
        .filter(having)
        .order_by("company__name", "id")
        .values(
            "id", "name", "provider", "company_id", "company__name", "is_active", "status",
            *INTEGRATION_KEY_COLUMNS,
        )
    )  # fmt: skip
    for row in stream(integrations, _CHUNK):
        scan.integration(row)
    return KeyScan(scan.found.unreadable, scan.found.diverging, scan.held.shared_keys())


class _Pass:
    """One row at a time, no query: what the checks need of it, and its keys as digests."""

    def __init__(self):
        self.inspect, self.digest = gateway_encrypter().inspect, fingerprint_digester()
        self.found, self.held, self.of_company = KeyScan(), _Held(), _CompanyKeys()

    def read(self, stored: str, flavour: str) -> tuple[int, str]:
        """(digest or 0, problem or ""): a stored value as the gateway reads it, kept only as
        its digest (0: empty); the plaintext ends here."""
        try:
            found = self.inspect(stored)
        except DecryptionError as error:
            return 0, error.reason
        if found.flavour != flavour:
            return 0, WRONG_FORMAT
        return (self.digest(found.value) if found.value else 0), ""

    def company(self, row: dict) -> None:
        problems, digests = [], [0] * _COMPANY_PLACES
        for place, column in enumerate(COMPANY_KEY_COLUMNS):
            if row[column]:
                digest, problem = self.read(row[column], SERIALIZED)
                if problem:
                    problems.append((column, problem))
                elif digest:
                    digests[place] = digest
                    self.held.add(digest, row["id"], place)
        if row["calcom_v2_api_key"]:
            digests[_V2] = self.digest(row["calcom_v2_api_key"])
            self.held.add(digests[_V2], row["id"], _V2)
        self.of_company.add(row["id"], digests)
        if problems:
            self.found.unreadable.append(("companies", row["id"], row["name"], _kept(problems)))

    def integration(self, row: dict) -> None:
        problems, api_key = [], 0
        holder = row["company_id"] if row["company__name"] is not None else None
        for index, column in enumerate(INTEGRATION_KEY_COLUMNS):
            if row[column]:
                digest, problem = self.read(row[column], RAW)
                if problem:
                    problems.append((column, problem))
                elif digest:
                    api_key = digest if column == "api_key" else api_key
                    if holder is not None:
                        self.held.add(digest, holder, _COMPANY_PLACES + index)
        title = (row["provider"], row["name"], row["company__name"])
        if problems:
            self.found.unreadable.append(("integrations", row["id"], title, _kept(problems)))
        active = counts_as_active(row["is_active"], row["status"])
        if api_key and active and row["provider"] in COMPARED:
            self.compare(row, title, api_key)

    def compare(self, row: dict, title: tuple, api_key: int) -> None:
        """AUD-KEY-002: the company keys the integration's API key differs from."""
        company_keys = self.of_company.get(row["company_id"])
        if company_keys is None:
            return
        differing = tuple(
            (place, company_keys[place])
            for place in COMPARED[row["provider"]]
            if company_keys[place] and company_keys[place] != api_key
        )
        if differing:
            self.found.diverging.append((title, row["id"], api_key, differing))


# The (column, reason) pairs of the unreadable rows: a few dozen, each kept once for the ~1,800
# rows (at the gateway's planned size) that hold them.
_PAIRS: dict = {}


def _kept(problems: list) -> tuple:
    """The problems of an unreadable row as kept until the check reports them."""
    return tuple(_PAIRS.setdefault(pair, pair) for pair in problems)


class _CompanyKeys:
    """Each company's key digests by company id (0: none), in arrays: once read, the ids split
    into parts by id (_parts) and sorted within each, to be found by bisection."""

    def __init__(self):
        self.ids, self.digests = array("q"), array("q")
        self.parts: list[tuple[array, array]] = []  # (ids sorted, their positions) per part

    def add(self, company_id: int, digests: list[int]) -> None:
        self.ids.append(company_id)
        self.digests.extend(digests)

    def index(self) -> None:
        self.parts = [
            (array("q", (self.ids[i] for i in at)), array("i", at)) for at in _parts(self.ids)
        ]
        self.ids = array("q")

    def get(self, company_id) -> array | None:
        if company_id is None or not self.parts:
            return None
        ids, positions = self.parts[company_id % len(self.parts)]
        at = bisect_left(ids, company_id)
        if at == len(ids) or ids[at] != company_id:
            return None
        start = positions[at] * _COMPANY_PLACES
        return self.digests[start : start + _COMPANY_PLACES]


class _Held:
    """Every readable key as (digest, company id, place) in the order the keys were read."""

    def __init__(self):
        self.digests, self.companies, self.places = array("q"), array("q"), array("b")

    def add(self, digest: int, company_id: int, place: int) -> None:
        self.digests.append(digest)
        self.companies.append(company_id)
        self.places.append(place)

    def shared_keys(self) -> list:
        """The keys held by two companies or more, in the order they were first read, each
        with its holders: {company_id: (name, first index, {place, ...})}."""
        found = []
        for part in _parts(self.digests):
            for digest, group in groupby(part, key=self.digests.__getitem__):
                holders: dict = {}
                for at in group:
                    _first, places = holders.setdefault(self.companies[at], (at, set()))
                    places.add(self.places[at])
                if len(holders) > 1:
                    found.append((min(at for at, _p in holders.values()), digest, holders))
        found.sort(key=lambda item: item[0])
        return _named_holders(found)


def _parts(values: array):
    """The indexes of ``values`` sorted by value (equal ones in reading order), a part at a
    time, split by value modulo the number of parts: a sort's list of at most about _PART
    entries, whatever the number of keys (4 bytes an index meanwhile)."""
    parts = 1
    while len(values) // parts > _PART:
        parts *= 2
    split = [array("i") for _part in range(parts)]
    for at, value in enumerate(values):
        split[value % parts].append(at)
    for part in range(parts):
        at, split[part] = split[part].tolist(), None
        at.sort(key=values.__getitem__)  # stable: equal values stay in reading order
        yield at


def _named_holders(found: list) -> list:
    """(digest, {company_id: (name, first index, places)}): the names read after the pass."""
    ids = {company_id for _at, _digest, holders in found for company_id in holders}
    names = dict(Company.objects.filter(pk__in=ids).values_list("pk", "name")) if ids else {}
    return [
        (digest, {cid: (names.get(cid, ""), at, places) for cid, (at, places) in holders.items()})
        for _first, digest, holders in found
    ]
