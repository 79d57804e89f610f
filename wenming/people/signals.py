"""The people app's domain events.

`volunteers_bulk_registered` is sent INSIDE the transaction that bulk-inserts volunteers (Excel import),
which bypasses the model's own save signals; listeners that keep figures (stats) update them in the
same transaction. kwargs: rows — a list of (station_id, created_at).
"""

from django.dispatch import Signal

volunteers_bulk_registered = Signal()
