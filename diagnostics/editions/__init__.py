"""The editions of a contract's diagnostic: their states, a new edition started from the
latest one, and what changed between two of them.

- `states`: brouillon → publiée → figée; publishing, unpublishing, freezing, deleting a
  draft; the rule that nothing of a frozen edition changes (`ensure_modifiable`).
- `copy`: `start_edition`, the copy of the latest edition in one transaction.
- `diff`: `compare`, what changed between two editions, matched by lineage.

How a new edition sees its indicators' values: measured values are facts of the
indicator's lineage, not of an edition (a value measured in 2025 is the same fact
whichever edition looks at it). A new edition copies each indicator with its information,
quartiers, references and targets (`Kind.copied_with_edition`), not its values: the copy
reads the values of its whole lineage (`indicateurs.models.series`), and a value entered
or imported in the new edition belongs to the new indicator. For a same period and place,
the value of the most recent edition counts (a correction); frozen editions keep theirs.
"""
