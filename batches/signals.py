"""What the batches app tells the layers above it, which it never imports."""

from django.dispatch import Signal

# A batch's intake figures changed: a new batch, or an edit of its fruit, bins or weights. Sent inside
# the writer's transaction (argument: batch), so a receiver that queues work does it on the same
# connection and the work commits or rolls back with the change.
intake_changed = Signal()
