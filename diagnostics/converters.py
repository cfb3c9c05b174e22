"""Kinds of the registry (`diagnostics.kinds`) in URLs: the converters give the views the
`Kind` a URL names, and accept a Kind or its name when a URL is written."""

import re

from . import kinds


class KindConverter:
    """A kind by one of its names; subclasses say which kinds and which name."""

    attribute = ""

    def kinds(self):
        raise NotImplementedError

    def name_of(self, kind):
        return getattr(kind, self.attribute)

    @property
    def regex(self):
        return "|".join(re.escape(self.name_of(kind)) for kind in self.kinds())

    def to_python(self, value):
        for kind in self.kinds():
            if self.name_of(kind) == value:
                return kind
        raise ValueError(value)

    def to_url(self, value):
        return self.name_of(value) if isinstance(value, kinds.Kind) else str(value)


class NatureConverter(KindConverter):
    """An item in the URLs of items: "difficultes", "indicateurs"."""

    attribute = "nature"

    def kinds(self):
        return kinds.items()


class ModeleConverter(KindConverter):
    """A level or an item in the URLs of the history: "pilier", "sous-theme", "difficulte"."""

    attribute = "slug"

    def kinds(self):
        return kinds.structure()


class NiveauConverter(KindConverter):
    """A level items hang from, in the URLs that add one: "themes", "sous-themes"."""

    def kinds(self):
        return [kind for kind in kinds.levels() if kinds.children(kind) and kind.key != "pilier"]

    def name_of(self, kind):
        return f"{kind.slug}s"
