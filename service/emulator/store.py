"""In-memory origin access identity state.

Every method is synchronous: callers run them between awaits, so each operation is
atomic with respect to other requests on the same event loop without any lock.
"""

from __future__ import annotations

import bisect
import dataclasses
import random
import string
from dataclasses import dataclass
from typing import Final

from service.emulator import wire

_ID_ALPHABET: Final = string.ascii_uppercase + string.digits
_ID_SUFFIX_LENGTH: Final = 13


@dataclass(frozen=True, slots=True)
class Identity:
    """One origin access identity; immutable so snapshots can be shared safely."""

    id: str
    s3_canonical_user_id: str
    caller_reference: str
    comment: str
    etag: str
    in_use: bool = False


class IdentityStore:
    def __init__(self, account_limit: int, rng: random.Random) -> None:
        self.account_limit = account_limit
        self._rng = rng
        self._by_id: dict[str, Identity] = {}
        self._by_caller_reference: dict[str, str] = {}
        # Kept sorted so list pages are stable under deletes of the marker item.
        self._sorted_ids: list[str] = []

    def __len__(self) -> int:
        return len(self._by_id)

    def clear(self) -> None:
        self._by_id.clear()
        self._by_caller_reference.clear()
        self._sorted_ids.clear()

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

    def create(self, caller_reference: str, comment: str) -> tuple[Identity, bool]:
        """Create an identity, or return the existing one for a replayed request.

        Returns the identity and whether it was newly created.
        """
        existing_id = self._by_caller_reference.get(caller_reference)
        if existing_id is not None:
            existing = self._by_id[existing_id]
            if existing.comment.strip() == comment.strip():
                return existing, False
            raise wire.already_exists()
        if len(self._by_id) >= self.account_limit:
            raise wire.too_many(self.account_limit)
        identity = Identity(
            id=self._new_id(),
            s3_canonical_user_id=f"{self._rng.getrandbits(384):096x}",
            caller_reference=caller_reference,
            comment=comment,
            etag=self._new_etag(),
        )
        self._by_id[identity.id] = identity
        self._by_caller_reference[caller_reference] = identity.id
        bisect.insort(self._sorted_ids, identity.id)
        return identity, True

    def get(self, identity_id: str) -> Identity:
        identity = self._by_id.get(identity_id)
        if identity is None:
            raise wire.no_such_identity(identity_id)
        return identity

    def _checked(self, identity_id: str, if_match: str | None) -> Identity:
        if not if_match or not if_match.strip():
            raise wire.invalid_if_match()
        identity = self.get(identity_id)
        if if_match.strip() != identity.etag:
            raise wire.precondition_failed()
        return identity

    def update(
        self, identity_id: str, if_match: str | None, caller_reference: str, comment: str
    ) -> Identity:
        current = self._checked(identity_id, if_match)
        if caller_reference != current.caller_reference:
            raise wire.illegal_update()
        wire.check_comment(comment)
        updated = dataclasses.replace(current, comment=comment, etag=self._new_etag(current.etag))
        self._by_id[identity_id] = updated
        return updated

    def delete(self, identity_id: str, if_match: str | None) -> None:
        current = self._checked(identity_id, if_match)
        if current.in_use:
            raise wire.in_use()
        del self._by_id[identity_id]
        del self._by_caller_reference[current.caller_reference]
        index = bisect.bisect_left(self._sorted_ids, identity_id)
        del self._sorted_ids[index]

    def page(self, marker: str, max_items: int) -> tuple[list[Identity], bool]:
        """Items with Id > marker (all if marker is empty), and whether more remain."""
        start = bisect.bisect_right(self._sorted_ids, marker) if marker else 0
        end = start + max_items
        ids = self._sorted_ids[start:end]
        return [self._by_id[i] for i in ids], end < len(self._sorted_ids)

    def set_in_use(self, identity_id: str, in_use: bool) -> Identity:
        current = self._by_id.get(identity_id)
        if current is None:
            raise KeyError(identity_id)
        updated = dataclasses.replace(current, in_use=in_use)
        self._by_id[identity_id] = updated
        return updated

    def snapshot(self) -> list[Identity]:
        return [self._by_id[i] for i in self._sorted_ids]
