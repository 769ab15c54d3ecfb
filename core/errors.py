"""Errors that services raise and every caller (page, API, admin, command) understands.

Bad input is django.core.exceptions.ValidationError (a 400 in the API, a form
error on a page). A request that lost a race, or contradicts the current state
of the data, is a Conflict (a 409).
"""


class Conflict(Exception):
    def __init__(self, message, code="conflict"):
        super().__init__(message)
        self.message = message
        self.code = code
