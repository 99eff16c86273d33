import json
import logging

import pytest

from app.logs import REDACTED, JsonFormatter


def _format(**extra: object) -> dict[str, object]:
    record = logging.LogRecord("app.test", logging.INFO, __file__, 1, "installed %s", ("shop",), None)
    for key, value in extra.items():
        setattr(record, key, value)
    result: dict[str, object] = json.loads(JsonFormatter().format(record))
    return result


class TestJsonFormatter:
    def test_carries_no_colour_codes_from_uvicorn(self) -> None:
        entry = _format(color_message="Finished server process [\x1b[36m%d\x1b[0m]")
        assert "color_message" not in entry
        assert "\x1b" not in json.dumps(entry, ensure_ascii=False)

    def test_writes_one_json_object_with_the_extra_fields(self) -> None:
        entry = _format(saleor_api_url="https://shop.test/graphql/")
        assert entry["message"] == "installed shop"
        assert entry["level"] == "info"
        assert entry["saleor_api_url"] == "https://shop.test/graphql/"

    @pytest.mark.parametrize("key", ["token", "auth_token", "saleor_signature", "Authorization", "jwks", "app_secret"])
    def test_masks_fields_that_could_hold_a_secret(self, key: str) -> None:
        assert _format(**{key: "s3cr3t"})[key] == REDACTED
