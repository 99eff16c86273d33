"""The pipeline step by step: deliveries stored through the webhook route, then processed and their
effects dispatched by the app's worker, on a clock that moves only when a test moves it."""

from tests.api.conftest import send as send  # a signed POST, as Saleor makes it
from tests.api.conftest import staff_headers as staff_headers  # the dashboard, for the shop's settings
