"""Helpers of migration 0010 (contracts and editions), shared with indicateurs 0007."""

LINEAGE_SQL = {
    # The lineage of a row that existed before editions is `lignee_of_pk(pk)`:
    # uuid.UUID(int=pk), the number in hexadecimal on 32 digits.
    "postgresql": "UPDATE {table} SET lignee = lpad(to_hex(id), 32, '0')::uuid WHERE lignee IS NULL",
    "sqlite": "UPDATE {table} SET lignee = printf('%032x', id) WHERE lignee IS NULL",
}


def fill_lineages(schema_editor, models):
    """Every row of these models (live and history) gets the lineage of its number, so that
    an item and its history rows share it."""
    sql = LINEAGE_SQL[schema_editor.connection.vendor]
    with schema_editor.connection.cursor() as cursor:
        for model in models:
            cursor.execute(sql.format(table=schema_editor.quote_name(model._meta.db_table)))


def contract_per_diagnostic(apps, schema_editor):
    """Each diagnostic becomes the first edition of a contract of its own, with its title,
    territory and period; its history rows name that contract."""
    Contrat = apps.get_model("diagnostics", "Contrat")
    Diagnostic = apps.get_model("diagnostics", "Diagnostic")
    Historical = apps.get_model("diagnostics", "HistoricalDiagnostic")
    for diagnostic in Diagnostic.objects.filter(contrat=None).order_by("pk"):
        contrat = Contrat.objects.create(
            nom=diagnostic.titre,
            slug=diagnostic.slug,
            territoire=diagnostic.territoire,
            annee_debut=diagnostic.annee_debut,
            annee_fin=diagnostic.annee_fin,
        )
        Contrat.objects.filter(pk=contrat.pk).update(created_at=diagnostic.created_at)
        nom = f"Diagnostic initial — {diagnostic.annee_debut}"
        date = diagnostic.created_at.date()
        Diagnostic.objects.filter(pk=diagnostic.pk).update(
            contrat=contrat, nom_edition=nom, date_edition=date
        )
        Historical.objects.filter(id=diagnostic.pk).update(
            contrat=contrat, nom_edition=nom, date_edition=date
        )
