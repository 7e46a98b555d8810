"""One versioned in-memory store, used by every resource; the resource's rules are data.

Every method is synchronous: callers run them between awaits, so each operation is
atomic with respect to other requests on the same event loop without any lock.
"""

from __future__ import annotations

import bisect
import dataclasses
import random
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from service.emulator import model, wire
from service.emulator.model import ApiError
from service.emulator.resources import Resource, snake_case

_ID_ALPHABET: Final = string.ascii_uppercase + string.digits
_ID_SUFFIX_LENGTH: Final = 13


@dataclass(frozen=True, slots=True)
class Record:
    """One stored resource: its config as the wire carried it, plus server-side members."""

    id: str
    config: Mapping[str, Any]
    etag: str
    generated: Mapping[str, Any]
    in_use: bool = False

    def view(self, resource: Resource) -> Any:
        """The resource's public dataclass (e.g. ``Identity``) for this record."""
        members = {**self.generated, **self.config}
        fields = {snake_case(key): value for key, value in members.items()}
        return resource.view(id=self.id, etag=self.etag, in_use=self.in_use, **fields)


def prepared(resource: Resource, config: Mapping[str, Any]) -> dict[str, Any]:
    """A decoded config with the resource's defaults, refused if a member must not be empty.

    Run as soon as the request is decoded: CloudFront reports these before version checks.
    """
    result = {**resource.defaults, **config}
    for member in resource.non_empty:
        value = result.get(member)
        if isinstance(value, str) and not value.strip():
            raise wire.invalid_argument(f"{member} must not be empty.")
    return result


def _normalised(value: Any) -> Any:
    # CloudFront ignores surrounding white space when it compares a replayed request.
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, Mapping):
        return {key: _normalised(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_normalised(item) for item in value]
    return value


class VersionedStore:
    """Ids, ETags, If-Match checks, sorted paging, the account limit and in-use marks."""

    def __init__(self, resource: Resource, account_limit: int, rng: random.Random) -> None:
        self.resource = resource
        self.account_limit = account_limit
        self._rng = rng
        self._by_id: dict[str, Record] = {}
        # Kept sorted so list pages are stable under deletes of the marker item.
        self._sorted_ids: list[str] = []
        # Idempotency key value -> (id, the config of the request that created it).
        self._originals: dict[Any, tuple[str, Mapping[str, Any]]] = {}
        # (member, value) -> id, for members no two resources may share.
        self._unique: dict[tuple[str, Any], str] = {}

    # -- ids and versions -----------------------------------------------------------

    def _token(self) -> str:
        return "E" + "".join(self._rng.choices(_ID_ALPHABET, k=_ID_SUFFIX_LENGTH))

    def _new_id(self) -> str:
        while True:
            candidate = self._token()
            if candidate not in self._by_id:
                return candidate

    def _new_etag(self, previous: str | None = None) -> str:
        while True:
            candidate = self._token()
            if candidate != previous:
                return candidate

    # -- rules ----------------------------------------------------------------------

    def _error(self, code: str, message: str) -> ApiError:
        return model.error(code, message)

    def _check_lengths(self, config: Mapping[str, Any]) -> None:
        for member, limit in self.resource.max_lengths.items():
            value = config.get(member)
            if isinstance(value, str) and len(value) > limit:
                raise wire.invalid_argument(
                    f"The parameter {member} is too long: {len(value)} characters, "
                    f"the maximum is {limit}."
                )

    def _check_unique(self, config: Mapping[str, Any], own_id: str | None) -> None:
        for member in self.resource.unique:
            holder = self._unique.get((member, config.get(member)))
            if holder is not None and holder != own_id:
                raise self._error(
                    self.resource.already_exists,
                    f"An {self.resource.noun} with the {member} {config.get(member)!r} "
                    "already exists.",
                )

    def _index(self, record: Record, add: bool) -> None:
        for member in self.resource.unique:
            key = (member, record.config.get(member))
            if add:
                self._unique[key] = record.id
            else:
                del self._unique[key]

    # -- operations -----------------------------------------------------------------

    def create(self, config: Mapping[str, Any]) -> Record:
        """Create a resource, or return the existing one for a replayed request."""
        resource = self.resource
        self._check_lengths(config)
        key = resource.idempotency_key
        if key is not None:
            original = self._originals.get(config[key])
            if original is not None:
                existing_id, original_config = original
                if _normalised(original_config) == _normalised(config):
                    return self._by_id[existing_id]
                raise self._error(
                    resource.already_exists,
                    f"An {resource.noun} with this {key} already exists "
                    "with a different configuration.",
                )
        self._check_unique(config, None)
        if len(self._by_id) >= self.account_limit:
            raise self._error(
                resource.too_many,
                "Processing your request would cause you to exceed the maximum number of "
                f"{resource.plural} allowed ({self.account_limit}).",
            )
        generated = resource.generated(self._rng) if resource.generated else {}
        record = Record(self._new_id(), dict(config), self._new_etag(), generated)
        self._by_id[record.id] = record
        bisect.insort(self._sorted_ids, record.id)
        if key is not None:
            self._originals[config[key]] = (record.id, record.config)
        self._index(record, add=True)
        return record

    def get(self, resource_id: str) -> Record:
        record = self._by_id.get(resource_id)
        if record is None:
            raise self._error(
                self.resource.no_such,
                f"The specified {self.resource.noun} does not exist: {resource_id}",
            )
        return record

    def _checked(self, resource_id: str, if_match: str | None) -> Record:
        if not if_match or not if_match.strip():
            raise self._error(
                "InvalidIfMatchVersion",
                "The If-Match version is missing or not valid for the resource.",
            )
        record = self.get(resource_id)
        if if_match.strip() != record.etag:
            raise self._error(
                "PreconditionFailed",
                "The precondition given in one or more of the request-header fields "
                "evaluated to false.",
            )
        return record

    def update(self, resource_id: str, if_match: str | None, config: Mapping[str, Any]) -> Record:
        current = self._checked(resource_id, if_match)
        for member in self.resource.immutable:
            if config.get(member) != current.config.get(member):
                raise self._error(
                    "IllegalUpdate", f"The {member} of an {self.resource.noun} cannot be changed."
                )
        self._check_lengths(config)
        self._check_unique(config, resource_id)
        updated = dataclasses.replace(
            current, config=dict(config), etag=self._new_etag(current.etag)
        )
        self._index(current, add=False)
        self._index(updated, add=True)
        self._by_id[resource_id] = updated
        return updated

    def delete(self, resource_id: str, if_match: str | None) -> None:
        current = self._checked(resource_id, if_match)
        if current.in_use:
            raise self._error(
                self.resource.in_use, f"The {self.resource.noun} is in use and cannot be deleted."
            )
        del self._by_id[resource_id]
        del self._sorted_ids[bisect.bisect_left(self._sorted_ids, resource_id)]
        key = self.resource.idempotency_key
        if key is not None:
            del self._originals[current.config[key]]
        self._index(current, add=False)

    def page(self, marker: str, max_items: int) -> tuple[list[Record], bool]:
        """Records with Id > marker (all if marker is empty), and whether more remain."""
        start = bisect.bisect_right(self._sorted_ids, marker) if marker else 0
        end = start + max_items
        return [self._by_id[i] for i in self._sorted_ids[start:end]], end < len(self._sorted_ids)

    # -- test controls --------------------------------------------------------------

    def set_in_use(self, resource_id: str, in_use: bool) -> Record:
        """Mark a resource as used (e.g. by a distribution); raises KeyError if unknown."""
        current = self._by_id[resource_id]
        updated = dataclasses.replace(current, in_use=in_use)
        self._by_id[resource_id] = updated
        return updated

    def snapshot(self) -> list[Record]:
        return [self._by_id[i] for i in self._sorted_ids]
