"""What an export carries is a decision per table: a new table makes this test ask for one."""

from app.db.export import LEFT_OUT, LEFT_OUT_TABLES, exported_tables, store_tables


def test_every_table_of_a_store_is_exported_or_left_out_on_purpose() -> None:
    assert {table.name for table in exported_tables()} == {
        "installations",
        "order_events",
        "effects",
        "failed_deliveries",
        "settings",
        "settings_changes",
        "fraud_assessments",
        "fraud_reviews",
        "fraud_velocity",
        "fraud_list_entries",
        "inventory_pools",
        "inventory_moves",
        "api_keys",
        "saleor_names",
        "shipping_rate_tables",
        "carrier_accounts",
        "shipping_decisions",
        "routing_partners",
        "routing_in_house",
        "routing_supplier_offers",
        "routing_plans",
        "routing_hand_offs",
        "routing_shipments",
        "support_counters",
        "support_tickets",
        "support_messages",
        "support_status_changes",
        "support_ticket_orders",
        "support_ticket_tags",
        "support_macros",
    }
    assert {table.name for table in store_tables()} == {table.name for table in exported_tables()} | LEFT_OUT_TABLES


def test_the_columns_left_out_exist() -> None:
    columns = {table.name: set(table.c.keys()) for table in store_tables()}
    for table, left_out in LEFT_OUT.items():
        assert left_out <= columns[table], table


def test_the_stores_own_record_comes_first() -> None:
    assert exported_tables()[0].name == "installations"
