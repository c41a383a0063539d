"""Write the CRS and ICANS episodes with their onset in a date range as CSV.

One row per episode, with the fields CIBMTR form 4100 and EBMT MED-A ask
for (README: column table). The command name and the column names are a
public interface: extend, never rename or drop one. Bad dates exit with
status 2 and a message naming the argument.
"""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand

from patients.episode_export import RangeError, episode_csv_lines, parse_range


class Command(BaseCommand):
    help = (
        "Write each CRS and ICANS episode with its onset from --from to --to "
        "(hospital dates, inclusive) as CSV on standard output (see README)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--from", dest="start", required=True, help="first date, YYYY-MM-DD")
        parser.add_argument("--to", dest="end", required=True, help="last date, YYYY-MM-DD")

    def handle(self, *args, **options) -> None:
        try:
            start, end = parse_range(options["start"], options["end"])
        except RangeError as error:
            sys.stderr.write(f"error: {error}\n")
            sys.exit(2)
        for line in episode_csv_lines(start, end):
            self.stdout.write(line, ending="")
