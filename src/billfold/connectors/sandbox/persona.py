"""Who a sandbox login belongs to, and the shops, employer and bills in their life.

Realistic-looking data needs a consistent person behind it: the same
supermarket every week, one employer on every paycheck, a home town in every
card descriptor. A persona is drawn once per login seed, so two logins look
like two different people while one login always looks like the same one.
Descriptors are formatted here, once, so the day loop only picks from lists.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from billfold.domain.snapshot import Identity

# (descriptor template, merchant, low cents, high cents); {n} is a store number,
# {city}/{st} the persona's home town, so descriptors read like real card feeds.
Shop = tuple[str, str, int, int]
# A purchase ready for the day loop: (description, merchant, category, low, high).
Spend = tuple[str, str, str, int, int]

GROCERIES: tuple[Shop, ...] = (
    ("KROGER #{n:04d} {city} {st}", "Kroger", 1850, 16800),
    ("SAFEWAY #{n:04d} {city} {st}", "Safeway", 1700, 15200),
    ("WHOLEFDS {st} #{n:05d}", "Whole Foods Market", 2200, 18900),
    ("TRADER JOE'S #{n:03d} {city} {st}", "Trader Joe's", 1500, 11800),
    ("ALDI {n:05d} {city} {st}", "Aldi", 1200, 9800),
    ("PUBLIX #{n:04d} {city} {st}", "Publix", 1600, 14900),
    ("WEGMANS #{n:03d} {city} {st}", "Wegmans", 2100, 17400),
    ("COSTCO WHSE #{n:04d} {city} {st}", "Costco", 6500, 32500),
)
RESTAURANTS: tuple[Shop, ...] = (
    ("CHIPOTLE {n:04d} {city} {st}", "Chipotle", 1050, 3400),
    ("PANERA BREAD #{n:06d} {city} {st}", "Panera Bread", 1150, 3600),
    ("OLIVE GARDEN {n:04d} {city} {st}", "Olive Garden", 3800, 11200),
    ("SQ *TAQUERIA EL SOL {city} {st}", "Taqueria El Sol", 1400, 4600),
    ("TST* PHO SAIGON {city} {st}", "Pho Saigon", 1600, 5200),
    ("DOMINO'S {n:04d} {city} {st}", "Domino's", 1450, 4100),
    ("SHAKE SHACK {n:04d} {city} {st}", "Shake Shack", 1300, 4300),
    ("DOORDASH*THAI BASIL SAN FRANCISCO CA", "DoorDash", 2200, 6400),
)
COFFEE: tuple[Shop, ...] = (
    ("STARBUCKS STORE {n:05d} {city} {st}", "Starbucks", 395, 1450),
    ("DUNKIN #{n:06d} {city} {st}", "Dunkin'", 289, 1190),
    ("PEETS COFFEE {n:05d} {city} {st}", "Peet's Coffee", 410, 1320),
    ("SQ *CORNER BAKERY CAFE {city} {st}", "Corner Bakery Cafe", 450, 1600),
)
FUEL: tuple[Shop, ...] = (
    ("SHELL OIL {n:011d} {city} {st}", "Shell", 2400, 7400),
    ("CHEVRON {n:07d} {city} {st}", "Chevron", 2600, 7800),
    ("EXXONMOBIL {n:08d} {city} {st}", "ExxonMobil", 2300, 7100),
    ("BP#{n:07d} {city} {st}", "BP", 2200, 6900),
    ("SPEEDWAY {n:05d} {city} {st}", "Speedway", 2000, 6600),
)
SHOPPING: tuple[Shop, ...] = (
    ("AMZN MKTP US*{n:04d}RT4K2 AMZN.COM/BILL WA", "Amazon", 899, 12999),
    ("TARGET {n:08d} {city} {st}", "Target", 1250, 14800),
    ("WALMART SUPERCENTER #{n:04d} {city} {st}", "Walmart", 980, 13200),
    ("THE HOME DEPOT #{n:04d} {city} {st}", "The Home Depot", 1499, 24900),
    ("BEST BUY {n:08d} {city} {st}", "Best Buy", 1999, 39999),
    ("ETSY.COM*{n:05d} BROOKLYN NY", "Etsy", 1400, 8800),
)
HEALTH: tuple[Shop, ...] = (
    ("CVS/PHARMACY #{n:05d} {city} {st}", "CVS Pharmacy", 499, 5600),
    ("WALGREENS #{n:05d} {city} {st}", "Walgreens", 520, 4800),
    ("RIVERSIDE DENTAL GROUP {city} {st}", "Riverside Dental Group", 4500, 26000),
)
RIDES: tuple[Shop, ...] = (
    ("UBER *TRIP HELP.UBER.COM CA", "Uber", 850, 4600),
    ("LYFT *RIDE {n:03d} LYFT.COM CA", "Lyft", 790, 4200),
)
FUN: tuple[Shop, ...] = (
    ("AMC {n:04d} ONLINE {st}", "AMC Theatres", 1450, 5200),
    ("TICKETMASTER 800-653-8000 CA", "Ticketmaster", 4800, 24000),
)

# (descriptor, merchant, cents); charged monthly on a persona-chosen day.
SUBSCRIPTIONS: tuple[tuple[str, str, int], ...] = (
    ("NETFLIX.COM LOS GATOS CA", "Netflix", 1549),
    ("SPOTIFY USA NEW YORK NY", "Spotify", 1199),
    ("HULU 877-8244858 CA", "Hulu", 1799),
    ("DISNEY PLUS 888-905-7888 CA", "Disney+", 1399),
    ("APPLE.COM/BILL 866-712-7753 CA", "Apple", 299),
    ("AMAZON PRIME*RT4K2 AMZN.COM/BILL WA", "Amazon Prime", 1499),
    ("PLANET FITNESS CLUB FEES 844-880-7180 NH", "Planet Fitness", 2499),
    ("NYTIMES 800-698-4637 NY", "The New York Times", 1700),
)

EMPLOYERS: tuple[str, ...] = (
    "Northwind Traders",
    "Globex Corporation",
    "Initech LLC",
    "Contoso Health System",
    "Umbrella Analytics",
    "Acme Logistics",
    "Soylent Foods",
    "Blue Harbor Schools",
)

# city, state, zip, area code
TOWNS: tuple[tuple[str, str, str, str], ...] = (
    ("COLUMBUS", "OH", "43215", "614"),
    ("AUSTIN", "TX", "78704", "512"),
    ("DENVER", "CO", "80205", "303"),
    ("RALEIGH", "NC", "27601", "919"),
    ("PORTLAND", "OR", "97214", "503"),
    ("MADISON", "WI", "53703", "608"),
    ("RICHMOND", "VA", "23220", "804"),
    ("SACRAMENTO", "CA", "95814", "916"),
    ("TAMPA", "FL", "33602", "813"),
    ("MINNEAPOLIS", "MN", "55401", "612"),
)
STREETS: tuple[str, ...] = (
    "Maple Avenue",
    "Oak Street",
    "Cedar Lane",
    "Lakeview Drive",
    "Hillcrest Road",
    "Willow Way",
    "River Road",
    "Chestnut Court",
)
FIRST_NAMES: tuple[str, ...] = (
    "Avery", "Jordan", "Morgan", "Riley", "Casey", "Taylor", "Jamie", "Priya",
    "Mateo", "Hannah", "Malik", "Sofia", "Wei", "Olivia", "Noah", "Grace",
)  # fmt: skip
LAST_NAMES: tuple[str, ...] = (
    "Johnson", "Nguyen", "Garcia", "Patel", "Okafor", "Kim", "Rossi", "Williams",
    "Chen", "Martinez", "Novak", "Haddad", "Lee", "Schmidt", "Brooks", "Silva",
)  # fmt: skip
COMPANY_NAMES: tuple[str, ...] = (
    "Bluebird Design Studio LLC",
    "Harbor Street Bakery Inc",
    "Keystone Landscaping LLC",
    "Northstar Bicycle Repair LLC",
)

# Business activity for the Sophtron business bank.
BUSINESS_INCOME: tuple[Shop, ...] = (
    ("STRIPE TRANSFER ST-{n:06d}", "Stripe", 42000, 385000),
    ("SQUARE INC DEPOSIT {n:06d}", "Square", 18000, 164000),
    ("SHOPIFY PAYOUT {n:06d}", "Shopify", 25000, 210000),
)
BUSINESS_SPEND: tuple[Shop, ...] = (
    ("AMAZON WEB SERVICES AWS.AMAZON.CO WA", "Amazon Web Services", 4500, 38000),
    ("OFFICE DEPOT #{n:04d} {city} {st}", "Office Depot", 1800, 26000),
    ("UPS*{n:010d} 800-811-1648 GA", "UPS", 1200, 9800),
    ("FEDEX {n:09d} MEMPHIS TN", "FedEx", 1500, 11000),
    ("ULINE *SHIP SUPPLIES 800-295-5510 WI", "Uline", 6400, 48000),
    ("COSTCO WHSE #{n:04d} {city} {st}", "Costco", 8000, 56000),
)


@dataclass(frozen=True, slots=True)
class Persona:
    """One made-up person (or company) with the habits the day loop draws from."""

    first: str
    last: str
    company: str
    street: str
    city: str
    state: str
    zip_code: str
    phone: str
    email: str
    employer: str
    employer_id: str
    net_pay_cents: int
    payday_offset: int  # day ordinal mod 14 of the biweekly Friday paycheck
    housing_cents: int
    groceries: tuple[Spend, ...]
    restaurants: tuple[Spend, ...]
    coffee: tuple[Spend, ...]
    fuel: tuple[Spend, ...]
    shopping: tuple[Spend, ...]
    subscriptions: tuple[tuple[str, str, int, int], ...]  # + day of month
    business_income: tuple[Spend, ...]
    business_spend: tuple[Spend, ...]

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"

    @property
    def address(self) -> str:
        return f"{self.street}, {self.city.title()}, {self.state} {self.zip_code}"

    def identity(self, *, business: bool = False) -> Identity:
        names = (self.company, self.name) if business else (self.name,)
        return Identity(
            names=names, addresses=(self.address,), phones=(self.phone,), emails=(self.email,)
        )


def _spends(
    rng: random.Random, shops: tuple[Shop, ...], count: int, category: str, town: tuple[str, ...]
) -> tuple[Spend, ...]:
    city, st = town[0], town[1]
    picked = rng.sample(shops, k=min(count, len(shops)))
    return tuple(
        (t.format(n=rng.randrange(1, 9999), city=city, st=st), m, category, lo, hi)
        for t, m, lo, hi in picked
    )


def make_persona(seed: int) -> Persona:
    rng = random.Random(seed)
    first = rng.choice(FIRST_NAMES)
    last = rng.choice(LAST_NAMES)
    town = rng.choice(TOWNS)
    city, state, zip_code, area = town
    employer = rng.choice(EMPLOYERS)
    # Friday ordinals are 5 mod 7 (date(1, 1, 5) is a Friday); pick one of the two fortnights.
    payday_offset = (5 + 7 * rng.randrange(2)) % 14
    subscriptions = tuple(
        (desc, merchant, cents, rng.randrange(1, 29))
        for desc, merchant, cents in rng.sample(SUBSCRIPTIONS, k=3)
    )
    return Persona(
        first=first,
        last=last,
        company=rng.choice(COMPANY_NAMES),
        street=f"{rng.randrange(100, 9900)} {rng.choice(STREETS)}",
        city=city,
        state=state,
        zip_code=zip_code,
        phone=f"({area}) 555-{rng.randrange(100, 200):04d}",
        email=f"{first.lower()}.{last.lower()}{rng.randrange(10, 99)}@example.com",
        employer=employer,
        employer_id=f"{rng.randrange(10**9, 10**10)}",
        net_pay_cents=rng.randrange(210_000, 340_000, 25),
        payday_offset=payday_offset,
        housing_cents=rng.randrange(135_000, 215_000, 500),
        groceries=_spends(rng, GROCERIES, 2, "Groceries", town),
        restaurants=_spends(rng, RESTAURANTS, 4, "Restaurants", town),
        coffee=_spends(rng, COFFEE, 2, "Coffee Shops", town),
        fuel=_spends(rng, FUEL, 2, "Gas", town),
        shopping=(
            *_spends(rng, SHOPPING, 3, "Shopping", town),
            *_spends(rng, HEALTH, 1, "Healthcare", town),
            *_spends(rng, RIDES, 1, "Rideshare", town),
            *_spends(rng, FUN, 1, "Entertainment", town),
        ),
        subscriptions=subscriptions,
        business_income=_spends(rng, BUSINESS_INCOME, 2, "Sales", town),
        business_spend=_spends(rng, BUSINESS_SPEND, 4, "Business Expenses", town),
    )
