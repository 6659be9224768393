"""판로지원 실적: what the market (takings) and the marketplace (imported
orders) brought each enterprise, for the center's reports."""
