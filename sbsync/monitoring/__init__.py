"""Figures and housekeeping above the engine: statistics, performance analysis, daily reports,
retention and purges, initial history. Reads what the engine records; the engine never imports it."""
