"""What a run would cost on AWS: a price table (``prices``), the run's usage in billed units (``usage``, read by
``measure``), and the bill (``bill``). ``hooks`` is the runner's way in."""

from emulator.cost.bill import Bill, CostLine, compute_bill
from emulator.cost.prices import Price, PriceTable, load_prices
from emulator.cost.usage import Usage

__all__ = ["Bill", "CostLine", "Price", "PriceTable", "Usage", "compute_bill", "load_prices"]
