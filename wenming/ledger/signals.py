"""The ledger's domain events (named like pretix's lifecycle signals).

All are sent after the transaction that caused them commits, so a listener
(notifications, `stats` roll-ups) never sees something that was rolled back.
"""

from django.dispatch import Signal

# A service record entered the ledger (verified, recorded, or a correction).
# kwargs: record (ServiceRecord), volunteer
hours_settled = Signal()

# A recorded-hours or correction request was entered, approved or rejected.
# kwargs: request (HoursRequest)
hours_request_submitted = Signal()
hours_request_decided = Signal()

# Points moved. kwargs: movement (PointMovement)
points_moved = Signal()

# A volunteer reached a new star level. kwargs: volunteer, level, previous_level, total_minutes
star_reached = Signal()
