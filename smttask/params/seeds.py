"""Reproducible integer seeds from keys: the same key gives the same seed in every process.

A seed is derived from the generator's entropy, a stream name and the key, through smttask's
stable digest (``smttask.digest.hash_value``, the one task digests use)::

    h = hash_value([entropy, stream, list(key_args), dict(key_kwargs)])
    words = SHAKE-256(b"smttask.seeds/1" + h), read as 8-byte little-endian integers
    seed_i = words[i] >> (64 - bits)

So keys compare as digests do: ``[1, 2]`` and ``(1, 2)`` are the same key, ``1`` and ``1.0``
are not, a dict's order does not matter, and a parameter point is keyed by its digest.
"""

from __future__ import annotations

import hashlib
import inspect
import sys
import typing
from collections import namedtuple
from typing import Any

from ..digest import hash_value
from ..errors import ParamError, short_repr

__all__ = ["SeedGenerator"]


class SeedGenerator:
    """Reproducible integer seeds: ``seeds = SeedGenerator(2024); seeds(point)``.

    ``seeds(*key, **named_key)`` returns an int in ``[0, 2**bits)`` (default 32 bits: valid for
    ``numpy.random.default_rng``, ``numpy.random.seed``, ``random.seed``, ``torch.manual_seed``).
    Subclasses may declare named streams, which give independent seeds for the same key::

        class Seeds(SeedGenerator):
            noise: int
            init: Tuple[int, int]     # two seeds per key

        seeds = Seeds(2024)
        seeds.noise(point)            # an int
        seeds(point)                  # SeedValues(noise=..., init=(..., ...))
    """

    _streams: typing.ClassVar[dict[str, int]] = {}
    SeedValues: typing.ClassVar[Any] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        module = sys.modules.get(cls.__module__)
        names = {"Tuple": tuple, "typing": typing, **(vars(module) if module else {})}
        streams = dict(cls._streams)  # a parent's streams come first
        own = inspect.get_annotations(cls, globals=names, eval_str=True)
        for name, annotation in own.items():
            if typing.get_origin(annotation) is typing.ClassVar or name.startswith("_"):
                continue
            if name in dir(SeedGenerator):
                raise ParamError(
                    f"{cls.__qualname__}.{name}: the name of a SeedGenerator method cannot be a "
                    f"stream name. Rename the stream."
                )
            streams[name] = _stream_length(cls, name, annotation)
        cls._streams = streams
        cls.SeedValues = namedtuple("SeedValues", list(streams)) if streams else None

    def __init__(self, entropy: int | str, *, bits: int = 32) -> None:
        if isinstance(entropy, bool) or not isinstance(entropy, (int, str)):
            raise ParamError(
                f"SeedGenerator(entropy={short_repr(entropy)}): the entropy is an int or a str "
                f"(e.g. SeedGenerator(2024)), the root every seed is derived from."
            )
        if isinstance(bits, bool) or not isinstance(bits, int) or not 1 <= bits <= 64:
            raise ParamError(f"SeedGenerator(bits={bits!r}): bits must be an integer in 1..64.")
        self.entropy = entropy
        self.bits = bits
        for name, length in self._streams.items():
            object.__setattr__(self, name, _Stream(self, name, length))

    def seed(self, *key: Any, stream: str = "", **named_key: Any) -> int:
        """One seed for `key` in `stream` (``""``: the generator's default stream)."""
        return self._seeds(stream, 1, key, named_key)[0]

    def seeds(self, n: int, *key: Any, stream: str = "", **named_key: Any) -> tuple[int, ...]:
        """`n` seeds for `key` (the first is ``seed(*key)``)."""
        return self._seeds(stream, n, key, named_key)

    def __call__(self, *key: Any, **named_key: Any) -> Any:
        """``seed(*key)``; with named streams, a ``SeedValues`` tuple with one per stream."""
        if self.SeedValues is None:
            return self._seeds("", 1, key, named_key)[0]
        return self.SeedValues(
            **{name: getattr(self, name)(*key, **named_key) for name in self._streams}
        )

    def _seeds(
        self, stream: str, n: int, key: tuple[Any, ...], named_key: dict[str, Any]
    ) -> tuple[int, ...]:
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ParamError(f"SeedGenerator: asked for {n!r} seeds; ask for 1 or more.")
        material = hash_value([self.entropy, stream, list(key), named_key])
        data = hashlib.shake_256(b"smttask.seeds/1" + material).digest(8 * n)
        shift = 64 - self.bits
        return tuple(int.from_bytes(data[8 * i : 8 * i + 8], "little") >> shift for i in range(n))

    def __repr__(self) -> str:
        bits = "" if self.bits == 32 else f", bits={self.bits}"
        return f"{type(self).__qualname__}({self.entropy!r}{bits})"


class _Stream:
    """A named stream of a SeedGenerator: ``seeds.noise(*key)``."""

    def __init__(self, owner: SeedGenerator, name: str, length: int) -> None:
        self.owner, self.name, self.length = owner, name, length

    def __call__(self, *key: Any, **named_key: Any) -> int | tuple[int, ...]:
        seeds = self.owner._seeds(self.name, self.length, key, named_key)
        return seeds[0] if self.length == 1 else seeds

    def __repr__(self) -> str:
        return f"{self.owner!r}.{self.name}"


def _stream_length(cls: type, name: str, annotation: Any) -> int:
    if annotation is int:
        return 1
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) is tuple and args and all(a is int for a in args):
        return len(args)
    raise ParamError(
        f"{cls.__qualname__}.{name}: a seed stream is annotated int or Tuple[int, ...] with "
        f"one int per seed (e.g. Tuple[int, int]), not {annotation!r}."
    )
