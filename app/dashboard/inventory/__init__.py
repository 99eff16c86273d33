"""Products → Cost & valuation and Receipts: reports, CSV files and goods received."""
