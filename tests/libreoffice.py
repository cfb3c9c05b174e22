"""LibreOffice headless, for the tests that need files LibreOffice itself wrote or opened.

`soffice` comes from Debian's `libreoffice-calc-nogui` (installed by .ci/run). The
`libreoffice` fixture (tests/conftest.py) is session-scoped: LibreOffice is slow to start,
and its profile is made once, in the session's temporary directory, never in the home
directory (`-env:UserInstallation`), so that parallel runs never share one.
Without soffice the tests that use it are skipped, except under CI=true, where they fail.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

SOFFICE = shutil.which("soffice") or "/usr/bin/soffice"
# A conversion of a few small files takes 2 s; the first one, making the profile, longer.
TIMEOUT = 180


def in_ci():
    return os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no", "non"}


def require_soffice():
    if Path(SOFFICE).exists():
        return
    reason = (
        f"LibreOffice absent ({SOFFICE}) : apt-get install --no-install-recommends "
        "libreoffice-calc-nogui / LibreOffice is not installed"
    )
    if in_ci():
        pytest.fail(f"{reason} (CI=true : ces tests ne sont jamais ignorés en CI)")
    pytest.skip(reason)


class LibreOffice:
    def __init__(self, workdir):
        self.workdir = Path(workdir)
        self.profile = self.workdir / "profil"
        self.runs = 0

    def convert(self, files, to, infilter=None):
        """{file name: bytes} converted by LibreOffice, in one run, to `to` ("ods",
        "pdf", "csv", or a filter "csv:Text - txt - csv (StarCalc):44,34,76"):
        {file name: bytes of the converted file}."""
        self.runs += 1
        source = self.workdir / f"conversion-{self.runs}"
        output = source / "sortie"
        output.mkdir(parents=True)
        paths = []
        for name, content in files.items():
            path = source / name
            path.write_bytes(content)
            paths.append(str(path))
        command = [
            SOFFICE,
            f"-env:UserInstallation={self.profile.as_uri()}",
            "--headless",
            "--norestore",
            *([f"--infilter={infilter}"] if infilter else []),
            "--convert-to",
            to,
            "--outdir",
            str(output),
            *paths,
        ]
        result = subprocess.run(  # noqa: S603 (our own command line)
            command, capture_output=True, text=True, timeout=TIMEOUT, check=False
        )
        extension = to.split(":", 1)[0]
        converted = {}
        for name in files:
            path = output / f"{Path(name).stem}.{extension}"
            assert path.exists(), (
                f"LibreOffice n'a pas converti {name} en {extension} "
                f"(code {result.returncode}) :\n{result.stdout}\n{result.stderr}"
            )
            converted[name] = path.read_bytes()
        return converted

    def convert_one(self, name, content, to, infilter=None):
        return self.convert({name: content}, to, infilter)[name]
