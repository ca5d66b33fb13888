"""The retailer side: synthetic orders and a plausible history of supplier status updates.

Everything is drawn from one seeded ``random.Random``, so the same seed gives the same
catalog, orders, entry ids and history. The data mimics the spec's examples, including their
oddities: malformed catalog ids (traps.md 18), all-zero address ids on ship-to-store orders,
an address ``type`` that disagrees with ``ship-to-store`` (traps.md 25), nil notes and phones,
prices with 0 or 2 decimals (traps.md 26), tracking numbers with leading zeros (traps.md 9).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from ._checks import InvalidFieldError
from ._orders import ItemRequest, OrderRequest
from ._records import HISTORY_START, NO_ADDRESS, Address, Customer, ItemInfo, Order, OrderLine, Seller, guid

if TYPE_CHECKING:
    from ._state import DropshipState

__all__ = ["Retailer", "seed_history"]

_PRODUCTS: tuple[tuple[str, str], ...] = (
    ("Samsung Galaxy S23 Clear Case", "29.99"),
    ("Samsung Galaxy S23 Ultra 256GB Phantom Black", "1649.99"),
    ("iPhone 15 Silicone Case with MagSafe - Storm Blue", "69"),
    ("iPhone 15 Pro Tempered Glass Screen Protector", "39.99"),
    ("Apple 20W USB-C Power Adapter", "25"),
    ("Apple AirPods Pro (2nd generation)", "329"),
    ("Google Pixel 8 128GB Obsidian", "949"),
    ("Google Pixel 8 Case - Charcoal", "39"),
    ("BlackBerry ACC53785101 N-X1 Battery Q10", "44.95"),
    ("Belkin BoostCharge 3-in-1 Wireless Charger", "149.99"),
    ("Anker PowerCore 10000 Portable Charger", "49.99"),
    ("OtterBox Defender Series - iPhone 14", "79.95"),
    ("LifeProof FRE Case - Galaxy S22", "99.99"),
    ("Zagg InvisibleShield Glass Elite+", "54.99"),
    ("USB-C to USB-C Cable 2m (Braided)", "19.99"),
    ("USB-C to Lightning Cable 1m", "24"),
    ("JBL Tune 510BT Wireless Headphones", "59.99"),
    ("Bose QuietComfort Earbuds II", "379"),
    ("Sony WH-1000XM5 Noise Cancelling Headphones", "499.99"),
    ("Samsung Galaxy Watch6 44mm Graphite", "429.99"),
    ("Apple Watch Sport Band 45mm - Midnight", "59"),
    ("Fitbit Charge 6 Fitness Tracker", "199.95"),
    ("Car Vent Mount with Qi Charging", "64.99"),
    ("PopSockets PopGrip - Black Marble", "15"),
    ("Moto G Stylus 5G 128GB", "399.99"),
    ("TCL 30 XE 5G 64GB", "199"),
    ("SanDisk Ultra microSDXC 128GB", "34.99"),
    ("Tile Mate Bluetooth Tracker (4-pack)", "79.99"),
    ("Samsung 25W Super Fast Charger & Cable", "34.99"),
    ("Screen Cleaning Kit - Spray & Microfibre", "12.5"),
    ("Mophie Juice Pack Access - iPhone 13", "89.95"),
    ("Logitech Pebble Bluetooth Mouse", "39.99"),
    ('Kindle Paperwhite 6.8" 16GB', "189.99"),
    ("Nintendo Switch Pro Controller", "89.99"),
    ("Ring Video Doorbell (2nd Gen)", "129.99"),
    ("SIM Card Ejector & Travel Pouch Set", "9"),
)

# (city, region, region code, first letters of postal codes)
_CA_PLACES = (
    ("Moosejaw", "Saskatchewan", "SK", "S"),
    ("Regina", "Saskatchewan", "SK", "S"),
    ("Saskatoon", "Saskatchewan", "SK", "S"),
    ("Winnipeg", "Manitoba", "MB", "R"),
    ("Calgary", "Alberta", "AB", "T"),
    ("Edmonton", "Alberta", "AB", "T"),
    ("Vancouver", "British Columbia", "BC", "V"),
    ("Kelowna", "British Columbia", "BC", "V"),
    ("Toronto", "Ontario", "ON", "M"),
    ("Ottawa", "Ontario", "ON", "K"),
    ("Montréal", "Québec", "QC", "H"),
    ("Québec", "Québec", "QC", "G"),
    ("Halifax", "Nova Scotia", "NS", "B"),
    ("St. John's", "Newfoundland and Labrador", "NL", "A"),
)
# (city, state, state code, first three digits of ZIP codes)
_US_PLACES = (
    ("Seattle", "Washington", "WA", "981"),
    ("Spokane", "Washington", "WA", "992"),
    ("Portland", "Oregon", "OR", "972"),
    ("Boise", "Idaho", "ID", "837"),
    ("Denver", "Colorado", "CO", "802"),
    ("Austin", "Texas", "TX", "787"),
    ("Chicago", "Illinois", "IL", "606"),
    ("Minneapolis", "Minnesota", "MN", "554"),
    ("New York", "New York", "NY", "100"),
    ("Atlanta", "Georgia", "GA", "303"),
    ("Phoenix", "Arizona", "AZ", "850"),
    ("Coeur d'Alene", "Idaho", "ID", "838"),
)
_STREETS = (
    "Evergreen Terrace", "Albert Street", "Main Street", "King Street West", "Broadway",
    "Elm Street", "Rue Sainte-Catherine", "Jasper Avenue", "Portage Avenue", "Maple Drive",
    "Queen Street East", "Oak Ridge Road", "Hastings Street", "5th Avenue", "Lakeshore Boulevard",
)  # fmt: skip
_FIRST_NAMES = (
    "Bob", "Alice", "Hélène", "Priya", "Liam", "Olivia", "Noah", "Chloé", "Mateo", "Aiden",
    "Zoë", "Seán", "Mei", "Omar", "Fatima", "Jean-Luc", "Grace", "Raj", "Emma", "Lucas",
)  # fmt: skip
_FAMILY_NAMES = (
    "Eh", "Smith", "Tremblay", "Nguyen", "O'Brien", "Patel", "Roy", "Gagnon", "Martin", "Lee",
    "Müller", "García", "Johnson", "Wilson", "MacDonald", "Côté", "Singh", "Kowalski",
)  # fmt: skip
_ADDRESS_NOTES = (
    "Leave at side door",
    "Ring bell & wait",
    "Buzzer #214",
    "Deliver to reception <front desk>",
    "Call on arrival",
)
_SHIPPING_METHODS = ("123", "1", "2", "7", "GROUND", "EXPRESS", "UPS-STD", "FEDEX-2DAY")
_COMPANIES = (33772, 50068, 29796, 41210, 14146)

# (carrier, info, tracking number maker)
_CARRIERS: tuple[tuple[str, str, str], ...] = (
    ("UPS", "www.ups.com", "1Z{a6}{d10}"),
    ("FedEx", "www.fedex.com", "{d12}"),
    ("Purolator", "www.purolator.com", "{d12}"),
    ("Canada Post", "www.canadapost.ca", "{d16}"),
    ("USPS", "www.usps.com", "9400{d18}"),
)


def _digits(rng: random.Random, n: int) -> str:
    return f"{rng.getrandbits(4 * n) % 10**n:0{n}d}"


def _alnum(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(n))


def _postal_code(rng: random.Random, first: str) -> str:
    letters = "ABCEGHJKLMNPRSTVWXYZ"
    code = f"{first}{rng.randrange(10)}{rng.choice(letters)}{rng.randrange(10)}{rng.choice(letters)}{rng.randrange(10)}"
    # Both spellings occur in retail systems; the spec's example has no space.
    return code if rng.random() < 0.7 else f"{code[:3]} {code[3:]}"


@dataclass(frozen=True)
class _Product:
    catalog_id: str
    description: str
    price: Decimal
    sku: str


@dataclass(frozen=True)
class _Store:
    seller_company: int
    location_id: int
    country: str
    country_code: str
    locality: str
    region: str
    region_code: str
    postal_code: str
    street: str


class Retailer:
    """Places orders the way RQ would: a seeded catalog, stores, and end customers."""

    def __init__(self, rng: random.Random, supplier_id: int) -> None:
        self.rng = rng
        self.supplier_id = supplier_id
        self.catalog = self._make_catalog()
        self.stores = self._make_stores()

    def _make_catalog(self) -> list[_Product]:
        rng, seen, products = self.rng, set[str](), []
        for description, price in _PRODUCTS:
            sku = ""
            while not sku or sku in seen:
                sku = self._sku(description)
            seen.add(sku)
            catalog_id = guid(rng)
            if rng.random() < 0.1:  # traps.md 18: catalog ids are not always GUIDs
                catalog_id = catalog_id[:23]
            products.append(_Product(catalog_id, description, Decimal(price), sku))
        return products

    def _sku(self, description: str) -> str:
        rng = self.rng
        brand = "".join(ch for ch in description.upper() if ch.isalpha())[:3]
        shape = rng.randrange(4)
        if shape == 0:  # AB-JH0786-MI
            return f"{_alnum(rng, 2)}-{brand[:2]}{_digits(rng, 4)}-{_alnum(rng, 2)}"
        if shape == 1:  # 802975857401: a UPC
            return _digits(rng, 12)
        if shape == 2:  # 9356SAMGL6S
            return f"{_digits(rng, 4)}{brand}{_alnum(rng, 4)}"
        return f"{brand[:2]}{_digits(rng, 5)}"  # GB40030

    def _make_stores(self) -> list[_Store]:
        rng, stores = self.rng, []
        for company in _COMPANIES:
            for n in range(1, rng.randrange(3, 8)):
                place, country, code = self._place()
                stores.append(
                    _Store(
                        seller_company=company,
                        location_id=company + n,
                        country=country,
                        country_code=code,
                        locality=place[0],
                        region=place[1],
                        region_code=place[2],
                        postal_code=self._postal(code, place[3]),
                        street=f"{rng.randrange(1, 9999)} {rng.choice(_STREETS)}",
                    )
                )
        return stores

    def _place(self) -> tuple[tuple[str, str, str, str], str, str]:
        if self.rng.random() < 0.6:
            return self.rng.choice(_CA_PLACES), "Canada", "CA"
        return self.rng.choice(_US_PLACES), "United States", "US"

    def _postal(self, country_code: str, prefix: str) -> str:
        if country_code == "CA":
            return _postal_code(self.rng, prefix)
        zip_code = f"{prefix}{_digits(self.rng, 2)}"
        return zip_code if self.rng.random() < 0.8 else f"{zip_code}-{_digits(self.rng, 4)}"

    def order(self, request: OrderRequest | None = None) -> Order:
        """A new order: the fields of ``request`` (checked by ``_orders``), the others drawn at random."""
        given = request or OrderRequest()
        rng = self.rng
        lines = self._lines(given.items)
        company_id, location_id = given.company_id, given.location_id
        candidates = [
            store
            for store in self.stores
            if (company_id is None or store.seller_company == company_id)
            and (location_id is None or store.location_id == location_id)
        ] or self.stores
        store = rng.choice(candidates)
        ship_to_store = given.ship_to_store
        if ship_to_store is None:
            ship_to_store = rng.random() < 0.35
        first, family = rng.choice(_FIRST_NAMES), rng.choice(_FAMILY_NAMES)
        seller = Seller(
            company_id=company_id if company_id is not None else store.seller_company,
            location_id=location_id if location_id is not None else store.location_id,
            po_reference=None if rng.random() < 0.2 else f"{_alnum(rng, 6)}N{rng.randrange(10)}",
            printable_id=_digits(rng, 8),
        )
        if ship_to_store:
            address = self._store_address(store, f"{first} {family}", given.country_code)
        else:
            address = self._home_address(f"{first} {family}", given.country_code)
        if given.postal_code is not None:
            address = address._replace(postal_code=given.postal_code)
        customer = Customer(
            alternate_name=None,
            customer_id=guid(rng),
            family_name=family,
            middle_name=None if rng.random() < 0.85 else rng.choice(_FIRST_NAMES),
            notes=None,
            primary_name=first,
            title=None if rng.random() < 0.8 else rng.choice(("Mr.", "Ms.", "Mx.", "Dr.")),
            type="Person",
        )
        return Order(
            order_id=given.order_id or guid(rng),
            supplier_id=self.supplier_id,
            seller=seller,
            ship_to_store=ship_to_store,
            address=address,
            customer=customer,
            shipping_method=given.shipping_method or rng.choice(_SHIPPING_METHODS),
            items=lines,
        )

    def _lines(self, items: tuple[ItemRequest, ...] | None) -> tuple[OrderLine, ...]:
        rng = self.rng
        if items is None:
            count = rng.choice((1, 1, 1, 2, 2, 3, 4))
            return tuple(
                OrderLine(
                    product.catalog_id,
                    product.description,
                    rng.choice((1, 1, 1, 1, 2, 2, 3, 5)),
                    product.price,
                    product.sku,
                )
                for product in rng.sample(self.catalog, count)
            )
        # Items are keyed by sku (an ItemStatusUpdate names them by it): an item given without
        # one takes a catalog product whose sku no other item has. Checked before any draw, so
        # that a refused order leaves the random stream, and so every later order, as it was.
        given_skus = {item.sku for item in items if item.sku is not None}
        unnamed = sum(1 for item in items if item.sku is None)
        products = [product for product in self.catalog if product.sku not in given_skus]
        if unnamed > len(products):
            raise InvalidFieldError(
                "items",
                f"{unnamed} items have no sku, but the catalog has only {len(products)} other products: "
                "give their skus",
            )
        drawn = iter(rng.sample(products, unnamed))
        lines: list[OrderLine] = []
        for item in items:
            product = next(drawn) if item.sku is None else rng.choice(self.catalog)
            lines.append(
                OrderLine(
                    catalog_id=item.catalog_id if item.catalog_id is not None else product.catalog_id,
                    description=item.description if item.description is not None else product.description,
                    quantity=item.quantity,
                    selling_price=item.selling_price if item.selling_price is not None else product.price,
                    sku=item.sku if item.sku is not None else product.sku,
                )
            )
        return tuple(lines)

    def _store_address(self, store: _Store, attention: str, country_code: str | None) -> Address:
        rng = self.rng
        if country_code is not None and country_code != store.country_code:
            return self._home_address(attention, country_code, store_delivery=True)
        return Address(
            # The spec's ship-to-store example carries the all-zero "no address" id.
            address_id=NO_ADDRESS if rng.random() < 0.7 else guid(rng),
            attention_to=attention,
            country=store.country,
            country_code=store.country_code,
            locality=store.locality,
            notes=None,
            phone=None,
            post_office_box_number=None,
            postal_code=store.postal_code,
            region=store.region,
            region_code=store.region_code,
            street_address_1=store.street,
            street_address_2=None,
            # traps.md 25: the type does not tell store from home delivery.
            type=None if rng.random() < 0.8 else rng.choice(("Home", "Work")),
        )

    def _home_address(self, attention: str, country_code: str | None, *, store_delivery: bool = False) -> Address:
        rng = self.rng
        if country_code == "CA":
            place, country, code = rng.choice(_CA_PLACES), "Canada", "CA"
        elif country_code == "US":
            place, country, code = rng.choice(_US_PLACES), "United States", "US"
        elif country_code is None:
            place, country, code = self._place()
        else:
            raise ValueError(f"country_code must be 'CA' or 'US', not {country_code!r}")
        area = f"{rng.randrange(200, 999)}"
        return Address(
            address_id=NO_ADDRESS if store_delivery else guid(rng),
            attention_to=attention,
            country=country,
            country_code=code,
            locality=place[0],
            notes=None if rng.random() < 0.85 else rng.choice(_ADDRESS_NOTES),
            phone=None if rng.random() < 0.5 else f"{area}-555-{_digits(rng, 4)}",
            post_office_box_number=None if rng.random() < 0.95 else str(rng.randrange(1, 9999)),
            postal_code=self._postal(code, place[3]),
            region=place[1],
            region_code=place[2],
            street_address_1=f"{rng.randrange(1, 9999)} {rng.choice(_STREETS)}",
            street_address_2=None if rng.random() < 0.8 else f"Unit {rng.randrange(1, 400)}",
            type=None if store_delivery or rng.random() < 0.1 else "Home",
        )

    def shipment(self) -> tuple[str, str, str]:
        """(shipping provider, tracking number, info) for a shipped order or item."""
        rng = self.rng
        carrier, info, pattern = rng.choice(_CARRIERS)
        tracking = pattern.replace("{a6}", _alnum(rng, 6))
        for n in (18, 16, 12, 10):
            tracking = tracking.replace(f"{{d{n}}}", _digits(rng, n))
        return carrier, tracking, info


# The seeded lifecycle of an order, one status update per step.
_NEW, _BACKORDERED, _ORDERED, _PARTIAL, _DONE = range(5)


def _order_update(
    state: DropshipState,
    order: Order,
    status: str,
    ts: int,
    *,
    message: str | None = None,
    shipment: tuple[str, str, str] | None = None,
) -> None:
    provider, tracking, info = shipment or (None, None, None)
    state.record_order_update(
        order,
        status=status,
        tracking_info=tracking,
        shipping_provider=provider,
        message=message,
        info=info,
        timestamp=ts,
    )


def _first_step(state: DropshipState, retailer: Retailer, order: Order, ts: int) -> int:
    """The supplier's first reaction to a new order; returns the order's next stage."""
    rng = retailer.rng
    r = rng.random()
    if r < 0.75:
        _order_update(state, order, "Ordered", ts)
        return _ORDERED
    if r < 0.85:
        _order_update(state, order, "BackOrdered", ts, message="Awaiting stock from distributor")
        return _BACKORDERED
    if r < 0.92:
        line = rng.choice(order.items)
        item = ItemInfo(
            line.catalog_id, None, "Discontinued by manufacturer", line.quantity, None,
            line.sku, "NotAvailable", None,
        )  # fmt: skip
        state.record_item_update(order, (item,), ts)
        return _ORDERED
    if r < 0.96:
        _order_update(state, order, "Cancelled", ts, message="Cancelled at the retailer's request")
        return _DONE
    _order_update(state, order, "Error", ts, message="Address could not be validated")
    return _ORDERED


def _step(state: DropshipState, retailer: Retailer, order: Order, stage: int, ts: int) -> int:
    """Record the next plausible status update of ``order``; return its new stage."""
    if stage == _NEW:
        return _first_step(state, retailer, order, ts)
    if stage == _BACKORDERED:
        _order_update(state, order, "Ordered", ts, message="Stock received")
        return _ORDERED
    shipment = retailer.shipment()
    if stage == _ORDERED and len(order.items) > 1 and retailer.rng.random() < 0.2:
        provider, tracking, info = shipment
        shipped = order.items[: retailer.rng.randrange(1, len(order.items))]
        items = tuple(
            ItemInfo(line.catalog_id, info, None, line.quantity, provider, line.sku, "Shipped",
                     tracking)
            for line in shipped
        )  # fmt: skip
        state.record_item_update(order, items, ts)
        return _PARTIAL
    _order_update(state, order, "Shipped", ts, shipment=shipment)
    return _DONE


class _History:
    """Drives the seeding: which event comes next, and the open orders' lifecycles."""

    def __init__(self, state: DropshipState, retailer: Retailer, history_rate: float) -> None:
        self.state = state
        self.retailer = retailer
        self.rng = retailer.rng
        self.history_rate = history_rate
        self.open: list[tuple[Order, int]] = []  # (order, stage) of orders with a future
        self.orders: list[Order] = []
        self.ts = HISTORY_START

    def create(self, *, with_history: bool) -> None:
        order = self.retailer.order()
        self.state.record_order_created(order, self.ts)
        self.orders.append(order)
        if with_history or self.rng.random() < self.history_rate:
            self.open.append((order, _NEW))

    def advance(self) -> None:
        if not self.open:  # only when events must be filled and every order is done
            order = self.rng.choice(self.orders)
            _order_update(self.state, order, "Other", self.ts, message="Customer contacted store")
            return
        index = self.rng.randrange(len(self.open))
        order, stage = self.open[index]
        stage = _step(self.state, self.retailer, order, stage, self.ts)
        if stage == _DONE:
            self.open[index] = self.open[-1]
            self.open.pop()
        else:
            self.open[index] = (order, stage)

    def tick(self) -> None:
        # Several events often share a second (traps.md 22).
        if self.rng.random() >= 0.25:
            self.ts += 1 + int(self.rng.random() * 600)


def seed_history(
    state: DropshipState,
    retailer: Retailer,
    *,
    orders: int | None,
    events: int | None,
    history_rate: float,
) -> None:
    """Fill an empty state with orders and status updates, interleaved in time."""
    history = _History(state, retailer, history_rate)
    rng = retailer.rng
    if events is None:
        # ``orders`` orders; a share of them get a lifecycle that advances meanwhile.
        target = 100 if orders is None else orders
        while len(history.orders) < target:
            if not history.open or rng.random() < 0.6:
                history.create(with_history=False)
            else:
                history.advance()
            history.tick()
        return
    for step in range(events):
        left = events - step
        created = len(history.orders)
        if orders is None:
            make = not created or rng.random() < 0.55
        else:
            to_create = orders - created
            make = to_create >= left or (to_create > 0 and (not history.open or rng.random() < to_create / left))
        if make:
            history.create(with_history=True)
        else:
            history.advance()
        history.tick()
