"""The query is read tolerantly of its spelling and strictly of its types; an option is strict;
money is exact on the wire."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from iqmetrix_dropship.shipping_options import OutOfStock, ShippingItem, ShippingOption, ShippingQuery
from iqmetrix_dropship.shipping_options._answers import options_answer
from iqmetrix_dropship.shipping_options._models import error_message

from .conftest import PUROLATOR, QUERY


def test_the_spec_example_query_is_read() -> None:
    query = ShippingQuery.model_validate(QUERY)
    assert query == ShippingQuery(
        company_id=123,
        postal_code="A1A1A1",
        items=[ShippingItem(sku="87932OTS45S6", quantity=11, product_name="...")],
    )
    assert query.country == "CA"


def test_items_are_optional_and_null_is_none() -> None:
    assert ShippingQuery.model_validate({"CompanyId": 1, "PostalCode": "08540"}).items == []
    assert ShippingQuery.model_validate({"CompanyId": 1, "PostalCode": "08540", "Items": None}).items == []


def test_unknown_fields_of_the_query_are_ignored() -> None:
    query = ShippingQuery.model_validate({**QUERY, "Currency": "CAD", "Items": [{"Sku": "A", "Quantity": 1, "X": 2}]})
    assert query.items == [ShippingItem(sku="A", quantity=1)]


def test_keys_match_whatever_their_case() -> None:
    query = ShippingQuery.model_validate(
        {"companyId": 5, "postalCode": "02139-4301", "items": [{"sku": "A", "QUANTITY": 2}]}
    )
    assert (query.company_id, query.postal_code, query.items[0].quantity) == (5, "02139-4301", 2)


@pytest.mark.parametrize(
    ("code", "country"),
    [("A1A1A1", "CA"), ("A1A 1A1", "CA"), ("k1a 0b1", "CA"), (" M5V3L9 ", "CA"), ("08540", "US"), ("02139-4301", "US")],
)
def test_canadian_and_us_postal_codes_are_taken(code: str, country: str) -> None:
    query = ShippingQuery.model_validate({"CompanyId": 1, "PostalCode": code})
    assert (query.postal_code, query.country) == (code.strip(), country)


@pytest.mark.parametrize(
    "code", ["", "   ", "A1A-1A1", "A1A  1A1", "1A1A1A", "0854", "085401", "02139 4301", "SW1A 1AA", "٠٨٥٤٠"]
)
def test_other_postal_codes_are_refused(code: str) -> None:
    with pytest.raises(ValidationError, match="PostalCode"):
        ShippingQuery.model_validate({"CompanyId": 1, "PostalCode": code})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"CompanyId": "abc"}, "CompanyId: must be an integer"),
        ({"CompanyId": "123"}, "CompanyId: must be an integer"),
        ({"CompanyId": True}, "CompanyId: must be an integer"),
        ({"CompanyId": 12.0}, "CompanyId: must be an integer"),
        ({"CompanyId": 0}, "CompanyId: must be 1 or more"),
        ({"CompanyId": None}, "CompanyId: must be an integer"),
        ({"PostalCode": 12345}, "PostalCode: must be a string"),
        ({"Items": {"Sku": "A"}}, "Items: must be a list"),
        ({"Items": ["A"]}, "Items[0]: must be an object"),
        ({"Items": [{"Quantity": 1}]}, "Items[0].Sku: is required"),
        ({"Items": [{"Sku": " ", "Quantity": 1}]}, "Items[0].Sku: must not be blank"),
        ({"Items": [{"Sku": "A"}]}, "Items[0].Quantity: is required"),
        ({"Items": [{"Sku": "A", "Quantity": -1}]}, "Items[0].Quantity: must be 1 or more"),
        ({"Items": [{"Sku": "A", "Quantity": 0}]}, "Items[0].Quantity: must be 1 or more"),
        ({"Items": [{"Sku": "A", "Quantity": False}]}, "Items[0].Quantity: must be an integer"),
        ({"Items": [{"Sku": "A", "Quantity": 1, "ProductName": 7}]}, "Items[0].ProductName: must be a string"),
    ],
)
def test_a_wrong_query_field_is_named_in_the_message(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        ShippingQuery.model_validate({**QUERY, **change})
    assert error_message(caught.value) == message


def test_a_missing_company_id_is_named() -> None:
    with pytest.raises(ValidationError) as caught:
        ShippingQuery.model_validate({"PostalCode": "08540"})
    assert error_message(caught.value) == "CompanyId: is required"


def test_the_message_never_quotes_the_input() -> None:
    with pytest.raises(ValidationError) as caught:
        ShippingQuery.model_validate({"CompanyId": "x" * 10_000, "PostalCode": "Y" * 10_000})
    message = error_message(caught.value)
    assert "xxx" not in message
    assert "YYY" not in message
    assert len(message) < 300


def test_the_message_names_three_fields_and_counts_the_rest() -> None:
    items = [{"Quantity": 1} for _ in range(5)]
    with pytest.raises(ValidationError) as caught:
        ShippingQuery.model_validate({"CompanyId": 1, "PostalCode": "08540", "Items": items})
    assert error_message(caught.value).endswith("; and 2 more")


@pytest.mark.parametrize(
    ("cost", "wire"),
    [
        (Decimal("7.94"), "7.94"),
        (Decimal("7.9"), "7.90"),
        (Decimal("7.940"), "7.94"),
        (Decimal(12), "12.00"),
        (0, "0.00"),
        (Decimal("-0"), "0.00"),
        (7.94, "7.94"),
        (0.1, "0.10"),
        (Decimal("9999999999999.99"), "9999999999999.99"),
    ],
)
def test_the_cost_goes_on_the_wire_as_an_exact_number(cost: Any, wire: str) -> None:
    option = ShippingOption(id="1", cost=cost, currency="USD")
    body = options_answer([option]).body.decode()
    assert f'"Cost": {wire}' in body
    assert json.loads(body, parse_float=Decimal)["ShippingOptions"][0]["Cost"] == Decimal(wire)


@pytest.mark.parametrize(
    ("cost", "message"),
    [
        (Decimal("7.945"), "at most 2 decimals"),
        (0.1 + 0.2, "at most 2 decimals"),
        (7.123, "at most 2 decimals"),
        (Decimal("-0.01"), "0 or more"),
        (Decimal("NaN"), "finite"),
        (float("inf"), "finite"),
        (Decimal("1e13"), "too large"),
        ("7.94", "must be a Decimal"),
        (True, "must be a Decimal"),
        (None, "must be a Decimal"),
    ],
)
def test_a_wrong_cost_is_refused(cost: Any, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ShippingOption(id="1", cost=cost, currency="CAD")


@pytest.mark.parametrize("currency", ["EUR", "cad", "", None, 1])
def test_only_usd_and_cad_are_currencies(currency: Any) -> None:
    with pytest.raises(ValidationError, match="must be 'USD' or 'CAD'"):
        ShippingOption(id="1", cost=1, currency=currency)


def test_an_option_refuses_an_unknown_field() -> None:
    with pytest.raises(ValidationError) as caught:
        ShippingOption.model_validate({"Id": "1", "Price": 1, "Currency": "CAD"})
    assert error_message(caught.value, prefix="ShippingOptions[0]") == (
        "ShippingOptions[0].Cost: is required; ShippingOptions[0].Price: unknown field (misspelt?)"
    )


def test_an_option_id_is_a_non_blank_string() -> None:
    with pytest.raises(ValidationError, match="must be a string"):
        ShippingOption(id=350, cost=1, currency="CAD")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="must not be blank"):
        ShippingOption(id=" ", cost=1, currency="CAD")


def test_the_spec_example_option_is_written_with_pascal_case_keys() -> None:
    assert json.loads(options_answer([PUROLATOR]).body) == {
        "ShippingOptions": [
            {"Id": "350", "Name": "PurolatorExpress", "Cost": 7.94, "Currency": "CAD", "EstimatedTransitTime": "1 week"}
        ]
    }


def test_optional_option_fields_left_unset_are_not_written() -> None:
    body = json.loads(options_answer([ShippingOption(id="1", cost=1, currency="USD")]).body)
    assert body == {"ShippingOptions": [{"Id": "1", "Cost": 1.0, "Currency": "USD"}]}


def test_an_option_is_read_from_a_mapping_in_either_spelling() -> None:
    pascal = ShippingOption.model_validate(
        {
            "Id": "350",
            "Name": "PurolatorExpress",
            "Cost": Decimal("7.94"),
            "Currency": "CAD",
            "EstimatedTransitTime": "1 week",
        }
    )
    snake = ShippingOption.model_validate(
        {
            "id": "350",
            "name": "PurolatorExpress",
            "cost": Decimal("7.94"),
            "currency": "CAD",
            "estimated_transit_time": "1 week",
        }
    )
    assert pascal == snake == PUROLATOR


def test_models_are_frozen() -> None:
    with pytest.raises(ValidationError):
        PUROLATOR.cost = Decimal(0)  # type: ignore[misc]


def test_out_of_stock_takes_one_sku_or_several_each_once() -> None:
    assert OutOfStock("A").skus == ("A",)
    assert OutOfStock(["A", "B", "A"]).skus == ("A", "B")
    assert str(OutOfStock(["A", "B"])) == "Out of stock: A, B"


@pytest.mark.parametrize("skus", [[], "", [" "], [None]])
def test_out_of_stock_without_a_sku_is_a_mistake(skus: Any) -> None:
    with pytest.raises(ValueError, match="at least one sku"):
        OutOfStock(skus)
