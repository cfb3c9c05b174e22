"""What every importer's French report shares (diagnostic tables and measures)."""

from contextlib import contextmanager
from pathlib import Path

from django.core.management.base import CommandError
from django.db import InterfaceError, OperationalError

from .formats import UnreadableFile, check_size


def located(line, message):
    """'ligne 12 : …', or the message alone when it concerns no line."""
    return f"ligne {line} : {message}" if line is not None else message


def status_line(filename, *, ok, nothing_new, dry_run, nothing_new_message):
    """The first line of a report: refused, nothing new, simulated or saved."""
    if not ok:
        return f"Fichier « {filename} » refusé : rien n'a été enregistré."
    if nothing_new:
        return nothing_new_message
    if dry_run:
        return f"Simulation de l'import de « {filename} » : rien n'a été enregistré."
    return f"Import de « {filename} » enregistré."


def message_lines(warnings, errors):
    """The warnings, then the errors, each under its title, with their line numbers."""
    lines = []
    for title, messages in (("Avertissements", warnings), ("Erreurs", errors)):
        if messages:
            lines.append(f"{title} :")
            lines.extend(f"  {located(line, message)}" for line, message in messages)
    return lines


def read_command_file(fichier, max_size=None):
    """The bytes of a file named on a command line, its size checked before reading;
    any problem is a CommandError in French (never a traceback)."""
    path = Path(fichier)
    try:
        if not path.is_file():
            raise CommandError(
                f"Fichier introuvable : {path}"
                if not path.exists()
                else f"{path} n'est pas un fichier."
            )
        check_size(path.stat().st_size, max_size)
        return path.read_bytes()
    except UnreadableFile as error:
        raise CommandError(error.message) from error
    except OSError as error:
        raise CommandError(f"Lecture impossible de {path} : {error.strerror}.") from error


def write_report(command, report):
    """Print an importer's report from a command, or fail with it when it holds errors."""
    if not report.ok:
        raise CommandError("\n".join(report.as_lines()))
    for line in report.as_lines():
        command.stdout.write(line)


@contextmanager
def database_failure():
    """A connection to the database lost (or refused) during an import: a French message,
    no traceback (unless --traceback), and a failed exit. The import runs in one
    transaction, so nothing of it was written and the command can simply be run again."""
    try:
        yield
    except (OperationalError, InterfaceError) as error:
        detail = str(error).strip().splitlines()
        raise CommandError(
            "La connexion à la base de données a été perdue (ou n'a pas pu être établie) : "
            "l'import n'a rien enregistré. Relancez la commande quand la base est de "
            "nouveau joignable." + (f"\n(Détail : {detail[0]})" if detail else "")
        ) from error
