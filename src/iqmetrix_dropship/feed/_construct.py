"""Building the feed models from values the parser has already converted.

The parser converts and checks every value itself while it walks the tree, so a pydantic
validation pass would only repeat that work. ``model_construct`` skips validation but still
loops over every field in Python (aliases, defaults) and costs more than validating; a page
builds some 300 models, so that loop alone would take longer than lxml's parse. A ``Blueprint``
does what ``model_construct`` does for a plain model (no aliases, private attributes, extras,
``model_post_init`` or custom ``__new__``) with one dict copy, and falls back to
``model_construct`` for any other model.

The tests build every feed model both ways and compare them (``test_feed_parser.py``).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from .._exceptions import FeedParseError

__all__ = ["Blueprint"]

_M = TypeVar("_M", bound=BaseModel)
_MISSING: Any = object()
# The slots pydantic gives every model, set as model_construct does: around the model's own
# __setattr__, which a frozen model refuses. The slots through their descriptors, which saves
# a lookup each.
_new = object.__new__
_setattr = object.__setattr__
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__


def _fresh_default(field: FieldInfo) -> Callable[[], Any] | None:
    """How to make a field's default for each instance, when it must not be shared."""
    if field.default_factory is not None:
        return field.default_factory  # type: ignore[return-value]  # never takes validated data here
    if isinstance(field.default, list | dict | set):
        default = field.default
        return lambda: copy.copy(default)
    return None  # None, a literal tag, a frozen model: immutable, safe to share


def _is_plain(model: type[BaseModel]) -> bool:
    """Whether an instance is fully described by ``__dict__`` and the fields-set, as
    ``model_construct`` leaves it for a model without any of these features."""
    return model.__new__ is object.__new__ and not (
        model.__pydantic_post_init__
        or model.__private_attributes__
        or model.__pydantic_root_model__
        or model.model_config.get("extra") == "allow"
        or any(field.alias or field.validation_alias for field in model.model_fields.values())
    )


class Blueprint(Generic[_M]):
    """Builds ``model`` instances from converted values, without validation.

    A reader fills a copy of ``fields()`` (every field, in declaration order, holding its
    default), then hands it to ``build()``. Every field counts as set, as when a model is
    validated from a complete dict: the parser decides each one, absent or not.

    Immutable once made, so a blueprint is shared by every thread.
    """

    __slots__ = (
        "_fast",
        "_fields_set",
        "_fresh",
        "_names",
        "_required",
        "_template",
        "_to_complete",
        "element",
        "model",
    )

    def __init__(self, model: type[_M], element: str) -> None:
        self.model = model
        self.element = element  # what the model is read from, for error messages: order-item
        # Declaration order, so that repr and iteration match a validated model.
        self._template: dict[str, Any] = {}
        self._fresh: tuple[tuple[str, Callable[[], Any]], ...] = ()
        self._required: tuple[str, ...] = ()
        for name, field in model.model_fields.items():
            fresh = _fresh_default(field)
            if field.is_required():
                self._required += (name,)
                self._template[name] = _MISSING
            elif fresh is not None:
                self._fresh += ((name, fresh),)  # made per instance (a list), never shared
                self._template[name] = _MISSING
            else:
                self._template[name] = field.default
        self._names = frozenset(self._template)
        # Every field counts as set, so every instance's fields-set is this same set: one for all
        # of them, not one made per instance. Safe to share: it already names every field, so
        # nothing pydantic adds to it (an assignment, ``model_copy(update=...)`` on its own copy)
        # can change it, and the feed models are frozen anyway.
        self._fields_set = set(self._names)
        self._fast = _is_plain(model)
        self._to_complete = bool(self._required or self._fresh)

    def fields(self) -> dict[str, Any]:
        """A fresh dict of every field and its default, for a reader to fill."""
        return self._template.copy()

    def build(self, fields: dict[str, Any], entry_id: str | None = None) -> _M:
        """The model for ``fields``, a filled copy of ``fields()``.

        A required field left unfilled, or ``None`` (an ``i:nil`` element), raises
        ``FeedParseError`` naming its element.
        """
        if self._to_complete:
            self._complete(fields, entry_id)
        if not self._fast:
            return self.model.model_construct(**fields)
        instance = _new(self.model)
        # Exactly the four attributes model_construct sets on a plain model.
        _setattr(instance, "__dict__", fields)
        _set_fields_set(instance, self._fields_set)
        _set_extra(instance, None)
        _set_private(instance, None)
        return instance

    def _complete(self, fields: dict[str, Any], entry_id: str | None) -> None:
        for name in self._required:
            value = fields[name]
            if value is None or value is _MISSING:
                element = name.replace("_", "-")
                raise FeedParseError(f"<{self.element}> has no <{element}>", entry_id=entry_id, element=element)
        for name, make in self._fresh:
            if fields[name] is _MISSING:
                fields[name] = make()

    def build_from(self, values: dict[str, Any], *, entry_id: str | None = None) -> _M:
        """The model for ``values``, any field left out taking its default."""
        fields = self._template.copy()
        fields.update(values)
        return self.build(fields, entry_id=entry_id)
