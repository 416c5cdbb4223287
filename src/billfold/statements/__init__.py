"""Statement files (CSV, OFX/QFX, QIF, CAMT.053) read into one streamed shape."""
