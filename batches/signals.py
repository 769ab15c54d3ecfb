"""What the batches app tells the layers above it, which it never imports."""

from django.dispatch import Signal

# A batch's intake figures changed: a new batch, or an edit of its fruit, bins or weights. Sent inside
# the writer's transaction (argument: batch), so a receiver that queues work does it on the same
# connection and the work commits or rolls back with the change.
intake_changed = Signal()

# A batch is about to change status (arguments: batch, to_status, by_dispatch). A receiver returns a message to
# refuse the move, or None. Layers above batches (pallets) hold rules batches cannot see: a batch on pallets
# is dispatched with its load (by_dispatch=True), never by hand.
before_transition = Signal()
