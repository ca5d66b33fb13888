"""The kit works without starlette (a Flask or Django supplier): only ``create_app`` needs it."""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import sys
    sys.modules["starlette"] = None  # as if it were not installed: any import of it fails
    sys.modules["uvicorn"] = None

    from iqmetrix_dropship.shipping_options import ShippingOption, ShippingOptionsHandler, create_app

    handler = ShippingOptionsHandler(lambda query: [ShippingOption(id="1", cost=1, currency="CAD")], auth=None)
    answer = handler.handle("POST", {"Content-Type": "application/json"}, b'{"CompanyId": 1, "PostalCode": "08540"}')
    print(answer.status)
    try:
        create_app(lambda query: [], auth=None)
    except ImportError as error:
        print(error)
    """
)


def test_the_handler_works_and_create_app_names_the_extra_without_starlette() -> None:
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    status, message = result.stdout.splitlines()
    assert status == "200"
    assert "pip install 'iqmetrix-dropship[shipping-options]'" in message
