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

# A manager is about to correct a batch (services.correct_batch; arguments: batch, the locked row with the
# corrections applied but not saved, changes {field: [old, new]}, reason, by). A receiver returns a message to
# refuse, or None. The hook for the layers above that know when a batch's value is settled: a closed pool or
# a posted payment run (issue #18) refuses here; batches itself checks what it can see (pack-out within net).
before_correction = Signal()
