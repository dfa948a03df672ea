"""A synthetic demo dataset in the shape the database review of 22 September 2025 found.

`catalogue`: the invented companies, staff and names, the fictional phone-number blocks.
`build`: unsaved model instances from the catalogue and a fixed seed, without the database.
`write`: one bulk insert per table in one transaction, into an empty database only.
"""

from integrations_app.demo_data.build import REFERENCE_TIME, SEED, DemoData, build_demo_data
from integrations_app.demo_data.write import SeedRefused, write_demo_data

__all__ = [
    "REFERENCE_TIME",
    "SEED",
    "DemoData",
    "SeedRefused",
    "build_demo_data",
    "write_demo_data",
]
