"""The errors services raise; routes and states turn them into statuses and toasts.

Each carries a message written for the person using the product, never internals.
"""

from __future__ import annotations


class ServiceError(Exception):
    """Base class: `message` is safe to show to the user; `status` is the HTTP mapping."""

    status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class ValidationFailed(ServiceError):
    status = 422


class NotAuthenticated(ServiceError):
    status = 401


class PermissionDenied(ServiceError):
    status = 403


class NotFound(ServiceError):
    status = 404


class Conflict(ServiceError):
    status = 409


class TooManyRequests(ServiceError):
    status = 429

    def __init__(self, message: str, retry_after_seconds: int = 60):
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class TooLarge(ServiceError):
    status = 413


class FieldInvalid(ValidationFailed):
    """A refusal about one input field, so a form can show the message next to that field."""

    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field
