"""The invented world of the demo dataset: companies, staff, names, fictional phone numbers.

Nothing here names a real business or person. E-mail addresses are made from these names under
reserved domains only (example.org, *.test); phone numbers come only from the blocks the
Bundesnetzagentur keeps free for film and radio.

Per company: how many customers, calls and appointments it gets. Summed they are the review's
figures (askproai/report-summary.md): 13 companies, 9 branches, 8 staff, 21 services,
4 phone numbers, 42 customers, 207 calls, 41 appointments.
"""

from typing import NamedTuple

# Blocks the Bundesnetzagentur reserves for fiction (film, radio, TV): never connected.
# E.164 prefix + three digits 000-999.
FICTION_BLOCKS = {
    "Berlin": "+493023125",
    "Frankfurt am Main": "+496990009",
    "Hamburg": "+494066969",
    "Köln": "+492214710",
    "München": "+498999998",
}

# How the review found the four phone numbers, by company (index into COMPANIES).
COMPLETE, UNNORMALISED, WITHOUT_BRANCH = "complete", "unnormalised", "without_branch"
PHONE_NUMBERS = ((0, COMPLETE), (1, COMPLETE), (2, UNNORMALISED), (3, WITHOUT_BRANCH))
UNNORMALISED_NUMBER = "+49 30 23125 104"  # company 2's line, typed by hand


class CompanySpec(NamedTuple):
    name: str
    slug: str
    industry: str
    city: str
    street: str
    postal_code: str
    line: str  # last three digits of the main number in the city's fictional block
    branches: tuple  # (name suffix, street, postal code)
    services: tuple  # (name, minutes, price)
    customers: int
    calls: int
    appointments: int


COMPANIES = (
    CompanySpec("Praxis Dr. Lindenberg", "praxis-dr-lindenberg", "healthcare", "Berlin",
             "Lindenbogen 12", "10117", "101",
             (("Mitte", "Kastanienhof 4", "10119"), ("Pankow", "Am Weidenring 9", "13187")),
             (("Erstuntersuchung", 30, "0.00"), ("Kontrolltermin", 15, "0.00"),
              ("Impfsprechstunde", 15, "0.00")),
             6, 30, 7),
    CompanySpec("Salon Haarmonie", "salon-haarmonie", "beauty", "Hamburg",
             "Schwalbenstieg 15", "20249", "101",
             (("Eppendorf", "Schwalbenstieg 15", "20249"), ("Altona", "Hafenkante 30", "22765")),
             (("Damenhaarschnitt", 45, "49.00"), ("Herrenhaarschnitt", 30, "29.00")),
             6, 28, 7),
    CompanySpec("Physiotherapie Wellengang", "physiotherapie-wellengang", "healthcare", "Berlin",
             "Fliederweg 21", "10405", "104",
             (("Prenzlauer Berg", "Fliederweg 21", "10405"),),
             (("Krankengymnastik", 30, "25.00"), ("Manuelle Therapie", 30, "35.00")),
             4, 20, 4),
    CompanySpec("Kanzlei Brandt & Oswald", "kanzlei-brandt-oswald", "legal", "Frankfurt am Main",
             "Ahornplatz 2", "60313", "101",
             (),
             (("Erstberatung Arbeitsrecht", 60, "190.00"),),
             3, 14, 3),
    CompanySpec("Zahnarztpraxis Dr. Sommerfeld-Kühn", "zahnarztpraxis-sommerfeld-kuehn", "dental",
             "München", "Lerchenhang 8", "80331", "101",
             (("Altstadt", "Lerchenhang 8", "80331"),),
             (("Kontrolluntersuchung", 30, "0.00"), ("Professionelle Zahnreinigung", 60, "95.00")),
             4, 18, 4),
    CompanySpec("Autowerkstatt Rheinblick", "autowerkstatt-rheinblick", "automotive", "Köln",
             "Uferpromenade 5", "50679", "101",
             (("Deutz", "Uferpromenade 5", "50679"),),
             (("Inspektion", 120, "189.00"), ("Reifenwechsel", 30, "39.00")),
             3, 14, 3),
    CompanySpec("Tierarztpraxis Am Mühlbach", "tierarztpraxis-am-muehlbach", "veterinary",
             "Frankfurt am Main", "Mühlbachgasse 3", "60594", "102",
             (("Sachsenhausen", "Mühlbachgasse 3", "60594"),),
             (("Impfung Hund oder Katze", 20, "45.00"), ("Allgemeine Untersuchung", 30, "60.00")),
             4, 16, 4),
    CompanySpec("Fitnessstudio Eisenfeder", "fitnessstudio-eisenfeder", "fitness", "Hamburg",
             "Birkenwinkel 6", "22303", "102",
             (("Winterhude", "Birkenwinkel 6", "22303"),),
             (("Probetraining", 60, "0.00"), ("Trainingsplan-Beratung", 45, "35.00")),
             3, 15, 3),
    CompanySpec("Kosmetikstudio Rosenblatt", "kosmetikstudio-rosenblatt", "beauty", "München",
             "Am Kornfeld 11", "81667", "102",
             (), (("Gesichtsbehandlung", 60, "69.00"),), 2, 12, 2),
    CompanySpec("Steuerbüro Kaltenbach & Partner", "steuerbuero-kaltenbach", "finance", "Köln",
             "Distelweg 17", "50823", "102",
             (), (("Beratung Einkommensteuer", 45, "0.00"),), 2, 10, 1),
    CompanySpec("Fahrschule Grünpfeil", "fahrschule-gruenpfeil", "education", "Berlin",
             "Heckenrosenweg 3", "12043", "105",
             (), (("Anmeldegespräch Führerschein", 30, "0.00"),), 2, 10, 1),
    CompanySpec("Optik Fernglanz", "optik-fernglanz", "retail", "Hamburg",
             "Möwenstraße 40", "22083", "103",
             (), (("Sehtest", 20, "0.00"),), 2, 10, 1),
    CompanySpec("Massagepraxis Lindgrün", "massagepraxis-lindgruen", "wellness", "München",
             "Sonnentauweg 14", "80797", "103",
             (), (("Klassische Massage", 45, "55.00"),), 1, 10, 1),
)  # fmt: skip

# (company index, branch index or None for "not assigned", name). None: the staff member's
# branch_id (NOT NULL, no foreign key in the gateway) names a branch that does not exist.
STAFF = (
    (0, 0, "Miriam Hollerbach"),
    (0, 0, "Jonas Weidenfeld"),
    (0, 1, "Selin Aydemir"),
    (1, 0, "Tobias Rauschert"),
    (2, 0, "Katharina Vogelsang"),
    (4, 0, "Lukas Brenninger"),
    (5, None, "Dana Ostermeier"),
    (6, None, "Henrik Sandvoß"),
)

FIRST_NAMES = (
    "Anna", "Lena", "Sophie", "Marie", "Laura", "Julia", "Hannah", "Clara", "Emilia", "Greta",
    "Ida", "Frieda", "Elif", "Aylin", "Paul", "Leon", "Felix", "Jonas", "Niklas", "Moritz",
    "Emil", "Karl", "Theo", "Mehmet", "Piotr", "Malte", "Jannik", "Ole",
)  # fmt: skip
LAST_NAMES = (
    "Albers", "Brückner", "Dahlmann", "Eggers", "Fenske", "Gerlach", "Hartwig", "Illner",
    "Jaschke", "Kessler", "Lorenz", "Marquardt", "Nowak", "Oldenburg", "Pfeiffer", "Quast",
    "Riedel", "Seidenfaden", "Thiele", "Uhlig", "Voss", "Wolters", "Zander", "Krämer",
)  # fmt: skip
CALL_TOPICS = (
    "Frage zu den Öffnungszeiten.",
    "Rückrufbitte hinterlassen.",
    "Frage zu den Preisen für {service}.",
    "Anrufer hat vor der Begrüßung aufgelegt.",
    "Frage nach freien Terminen für {service}, noch keine Buchung.",
)
