"""CSV files: one streamed writer, one rule against spreadsheet formulas, and the rows
of each export (recordings, the daily spend, the activity log)."""

import csv
import io
import re
from decimal import Decimal

from django.http import StreamingHttpResponse

# A spreadsheet runs a cell starting with one of these as a formula (a tab, a carriage
# return or a space before one as well); upstream text and user agents are data.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", " ")
_PLAIN_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")

RECORDING_COLUMNS = (
    "id",
    "created_at",
    "duration_seconds",
    "price",
    "price_unit",
    "status",
    "error_code",
    "track",
    "source",
    "stereo",
    "byte_size",
    "leg_id",
    "conference_id",
    # Added after the columns above, so spreadsheets built on them keep working.
    "family",
    "status_family",
    "call_sid",
    # Who called whom, as SignalWire gave the addresses (E.164, a SIP URI, a client
    # name), and whether they are known: "found", else why not (pending, none for a
    # conference, not_found, refused, failed: signalwire.NUMBER_STATES). A number
    # starts with "+", so `defuse` writes it as '+14155550100: a spreadsheet shows it as
    # text, with its plus, instead of running it as the formula =+14155550100 (which
    # would turn it into 14155550100 or 1.42E+10).
    "from",
    "to",
    "direction",
    "numbers",
)
DAILY_COLUMNS = ("date", "currency", "recordings", "seconds", "price")
ACTIVITY_COLUMNS = (
    "at",
    "username",
    "action",
    "recording_id",
    "credential_label",
    "space",
    "detail",
    "remote_addr",
    "user_agent",
)


def defuse(value) -> str:
    """A cell's text, prefixed with ' where a spreadsheet would run it as a formula. A
    plain negative number (-0.0025) stays a number."""
    text = "" if value is None else str(value)
    if text[:1] in FORMULA_STARTS and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


# What one chunk of a streamed CSV holds: each chunk is one write to the socket (one
# event under ASGI), so a line per chunk spent more time sending than writing.
CSV_CHUNK = 64 * 1024


class _Echo:
    """A file that hands back what is written: csv.writer then returns each line."""

    def write(self, value: str) -> str:
        return value


_LINE_WRITER = csv.writer(_Echo())


def csv_line(row) -> str:
    """One CSV line of `row`, every cell defused: the one way each CSV here writes a row
    (the recordings archive's manifest too)."""
    return _LINE_WRITER.writerow([defuse(value) for value in row])


def csv_response(filename: str, header, rows) -> StreamingHttpResponse:
    """A CSV streamed in chunks of about CSV_CHUNK: no list of all rows is ever built."""

    def chunks():
        buffer = io.StringIO()
        buffer.write(csv_line(header))
        for row in rows:
            buffer.write(csv_line(row))
            if buffer.tell() >= CSV_CHUNK:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    response = StreamingHttpResponse(chunks(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def plain_decimal(amount) -> str:
    """An exact decimal for a CSV cell: 0.0025, 12.50; no symbol, no float rounding."""
    if amount is None:
        return ""
    amount = Decimal(amount)
    if amount.normalize().as_tuple().exponent > -2:
        return f"{amount.quantize(Decimal('0.01')):f}"
    return f"{amount.normalize():f}"


# The index's fields behind RECORDING_COLUMNS: the same names, but for the id's and
# the parties'.
_RENAMED = {"from": "from_address", "to": "to_address", "numbers": "numbers_state"}
RECORDING_FIELDS = ("recording_id", *(_RENAMED.get(c, c) for c in RECORDING_COLUMNS[1:]))
# The bulk archive's manifest.csv: each recording's CSV columns, then what became of it
# in the archive (see archive.py).
MANIFEST_COLUMNS = (*RECORDING_COLUMNS, "file", "bytes", "sha256", "outcome", "reason")


def recording_rows(rows):
    """RECORDING_COLUMNS for each indexed recording, read from the database in chunks."""
    for values in rows.values_list(*RECORDING_FIELDS).iterator(chunk_size=2000):
        yield _recording_cells(values)


def recording_cells(row) -> list:
    """RECORDING_COLUMNS of one IndexedRecording already read."""
    return _recording_cells([getattr(row, field) for field in RECORDING_FIELDS])


def _recording_cells(values) -> list:
    row = list(values)
    row[1] = utc_text(row[1])
    row[3] = plain_decimal(row[3])
    row[9] = "" if row[9] is None else ("yes" if row[9] else "no")
    return row


def daily_rows(days: dict[str, list[dict]]):
    """DAILY_COLUMNS, sorted by day then currency, from reports.daily's series."""
    return sorted(
        (
            day["day"].isoformat(),
            currency,
            day["count"],
            day["seconds"],
            plain_decimal(day["price"]),
        )
        for currency, series in days.items()
        for day in series
    )


def activity_rows(events):
    """ACTIVITY_COLUMNS for each audit event, read from the database in chunks."""
    for event in events.iterator(chunk_size=1000):
        row = [getattr(event, column) for column in ACTIVITY_COLUMNS]
        row[0] = utc_text(event.at)
        yield row


def utc_text(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")
