"""Live carrier rates through Karrio's SDK: ``settings`` (the carriers and their credentials),
``mapper`` (pure conversions between our shapes and Karrio's) and ``client`` (the blocking calls, in
worker threads under a deadline)."""
