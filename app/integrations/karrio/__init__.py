"""Live carrier rates through Karrio's SDK: ``settings`` (the carriers and their credentials),
``mapper`` (pure conversions between our shapes and Karrio's) and ``client`` (the blocking calls, in
worker threads under a deadline)."""

from loguru import logger

# Karrio logs through loguru to stderr from the moment its modules load (request bodies included);
# silenced here, before any of them is imported. The client logs what matters in the app's own words.
logger.disable("karrio")
