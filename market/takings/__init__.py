"""Takings (매출): each vendor's sales on a market day, the daily ceiling,
reports and exports."""
