"""Pure functions over parsed reports: test results, gates and the summary. No I/O here."""
