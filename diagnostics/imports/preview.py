"""The summary that opens an import's preview: how many things the import would create,
change, leave as they are and remove, with its warnings and errors, for any nature of file.

Two kinds of report reach the preview (`natures`): a source table's (`source_table`: its
entries by level, with their status, `levels()`) and the others' (`indicateurs`' measures:
`created`, `updated` and `unchanged` counts). The numbers are the report's own, the ones
the confirmation then writes (tests/diagnostics/imports/test_apercu_resume.py).
"""

from dataclasses import dataclass, field

from .reconcile import CONTINUED, CREATED, EDITED_IN_SITE, REPLACED, UNCHANGED


@dataclass(frozen=True)
class Count:
    key: str  # created, changed, unchanged, edited or removed
    label: str  # in French, what happens to them
    number: int
    aide: str = ""  # a few words more, when the label needs them


@dataclass
class Summary:
    counts: list[Count] = field(default_factory=list)
    warnings: int = 0
    errors: int = 0  # every error found, those the report does not list included
    refused: bool = False

    @property
    def nothing_new(self):
        """Whether the import would write nothing (its report then says why)."""
        return not any(
            count.number for count in self.counts if count.key in ("created", "changed", "removed")
        )

    def number(self, key):
        """The number of this key (0 when the summary has no such count)."""
        return next((count.number for count in self.counts if count.key == key), 0)


def summarize(report):
    """The `Summary` of an importer's report (a dry run's, or a refused import's)."""
    errors = getattr(report, "error_count", None)
    summary = Summary(
        warnings=len(report.warnings),
        errors=len(report.errors) if errors is None else max(errors, len(report.errors)),
        refused=not report.ok,
    )
    if summary.refused:
        return summary
    if hasattr(report, "levels"):
        summary.counts = _source_table_counts(report)
    else:
        summary.counts = _values_counts(report)
    return summary


def _source_table_counts(report):
    statuses = dict.fromkeys((CREATED, CONTINUED, UNCHANGED, EDITED_IN_SITE), 0)
    for _, entries, _ in report.levels():
        for entry in entries:
            status = CREATED if entry.status == REPLACED else entry.status
            statuses[status] += 1
    removable = len(report.removable_absents())
    counts = [
        Count("created", "À créer", statuses[CREATED]),
        Count(
            "changed",
            "À compléter",
            statuses[CONTINUED],
            "déjà présents, de nouveaux éléments s’y ajoutent" if statuses[CONTINUED] else "",
        ),
        Count("unchanged", "Inchangés", statuses[UNCHANGED]),
    ]
    if statuses[EDITED_IN_SITE]:
        counts.append(
            Count(
                "edited",
                "Modifiés dans le site depuis l’import",
                statuses[EDITED_IN_SITE],
                "la version du site est conservée, sauf si vous choisissez celle du fichier",
            )
        )
    counts.append(
        Count(
            "removed",
            "À retirer",
            report.removed,
            (
                f"{removable} éléments du site absents du fichier : conservés, "
                "sauf ceux que vous cochez plus bas"
                if removable > 1
                else "1 élément du site absent du fichier : conservé, sauf si vous le cochez "
                "plus bas"
            )
            if removable
            else "",
        )
    )
    return counts


def _values_counts(report):
    return [
        Count("created", "À créer", report.created),
        Count("changed", "À mettre à jour", report.updated),
        Count("unchanged", "Inchangées", report.unchanged),
    ]


def shifted_entries(report):
    """[(level, entry)] of the rows put back in place (shifted one column), in line order,
    so that the preview can show them without unfolding their level."""
    shifted = set(getattr(report, "shifted_lines", ()))
    if not shifted or not hasattr(report, "levels"):
        return []
    found = [
        (level, entry)
        for level, entries, _ in report.levels()
        for entry in entries
        if entry.line in shifted
    ]
    return sorted(found, key=lambda pair: pair[1].line)
