# Copyright: cluster_ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Domain errors raised by the collection's logic and turned into one ``fail_json`` line by the modules."""

from __future__ import annotations


class ClusterOpsError(Exception):
    """Base of every error the collection reports to the user as one clear line."""

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidInput(ClusterOpsError):
    """A value given by the user is malformed or not allowed; the message names the value."""


class ApiError(ClusterOpsError):
    """The Kubernetes API (or etcd) answered with an error or could not be reached."""


class OperationTimeout(ClusterOpsError):
    """A long operation did not finish within its timeout; details say what was last seen."""
