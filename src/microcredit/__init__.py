"""microcredit: an open-source microcredit (小额信贷) system."""

__version__ = "0.1.0"
