"""While the app serves, the cycle collector leaves what startup built alone and runs its young
generation less often (``app.main``); afterwards the process is as it was."""

from __future__ import annotations

import gc

from fastapi import FastAPI


async def test_what_startup_built_is_frozen_while_serving_and_released_after(app: FastAPI) -> None:
    thresholds = gc.get_threshold()
    async with app.router.lifespan_context(app):
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (10_000, *thresholds[1:])
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == thresholds
