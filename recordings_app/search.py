"""Search and filters on /recordings/, answered from the index.

The filters live in the URL (GET), validated by `RecordingFilters`; a value that does
not parse is a 400 with the reason, never a 500 (the list marks the field and keeps the
page; the CSV answers with the reason alone). Without any filter or sort in the URL
the list stays the live upstream view; with one, the list is answered from the
credential's own index (see listing.py), with the same table markup.

- `from`/`to` are date-times in the user's time zone (the profile's, else the
  browser's); `to` includes the whole minute it names (to=14:00 finds 14:00:59).
- The search box matches a recording id, leg id, call sid or conference id (a whole id
  exactly, a shorter piece as a prefix: ids are lower-case UUIDs), and a phone number
  in any common form (`+1 415 555 0100`, `(415) 555-0100`, `0044 20 7946 0000`) as
  the caller or the callee. A number is read by `phonenumbers` in the user's region
  (their profile's, else PHONE_REGION); four digits or more that are not a whole
  number match the end of a number (the last four digits a customer gives). Input that
  could be either (`0100`) matches both.
- The search box also matches words of the credential's notes (any case) and its tags
  (`#refund` or `refund`), whatever else the text may be; text that is no number, no id
  and in no note or tag is refused with the reason. `tag` keeps only recordings with
  that tag. Notes and tags are per credential (recordings_app/notes.py).
- Sorting by price orders the numbers whatever their currency; totals never add
  currencies. Ties are broken by creation time, then id, so pages are stable.
- `status` is a status family (in_progress, done, no_audio, failed, other: see
  signalwire.STATUS_FAMILIES), which groups the words of both API families; any other
  word is matched as SignalWire's own status word (`status=completed`).
- Talk time (recordings_app/talk_time.py): `min_silence` keeps recordings whose longest
  silence is at least that many seconds; `min_left_share`/`max_left_share` bound the left
  channel's share of the talking (left / (left + right), in percent; stereo recordings
  that were analysed and in which someone spoke). Recordings not analysed yet match
  neither.
- Vanished recordings (deleted upstream) are not shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import urlencode

import phonenumbers
from django import forms
from django.conf import settings
from django.core.paginator import InvalidPage, Paginator
from django.db.models import Count, F, Q, Sum
from django.utils.functional import cached_property

from recordings_app import index, notes, rollups
from recordings_app.errors import Problem
from recordings_app.models import DayFigures
from recordings_app.signalwire import SOURCE_LABELS, STATUS_FAMILIES, PageTotals

TRACKS = ("inbound", "outbound", "both")
SORTS = {
    "-created": ("-created_at", "-recording_id"),
    "created": ("created_at", "recording_id"),
    "-duration": (F("duration_seconds").desc(nulls_last=True), "-created_at", "-recording_id"),
    "duration": (F("duration_seconds").asc(nulls_last=True), "-created_at", "-recording_id"),
    "-price": (F("price").desc(nulls_last=True), "-created_at", "-recording_id"),
    "price": (F("price").asc(nulls_last=True), "-created_at", "-recording_id"),
}
SORT_LABELS = {
    "-created": "newest first",
    "created": "oldest first",
    "-duration": "longest first",
    "duration": "shortest first",
    "-price": "most expensive first",
    "price": "cheapest first",
}
# Everything in the URL that makes the list come from the index.
FILTER_NAMES = (
    "from",
    "to",
    "status",
    "track",
    "source",
    "stereo",
    "min_duration",
    "max_duration",
    "min_price",
    "max_price",
    "min_silence",
    "min_left_share",
    "max_left_share",
    "q",
    "tag",
    "sort",
)
_WORD = re.compile(r"^[a-z0-9_-]{1,32}$")
_ID_PIECE = re.compile(r"^[0-9a-f-]{1,36}$")
_UUID_DASHES = (8, 13, 18, 23)
# The fewest trailing digits a number search matches by: fewer would match most rows.
MIN_SUFFIX_DIGITS = 4
MAX_QUERY = 64


@dataclass(frozen=True)
class NumberSearch:
    """What a typed phone number matches, as reversed E.164 digits (the index's
    `from_rdigits`/`to_rdigits`): whole numbers exactly, and trailing digits as a
    prefix of the reversed digits (an index range scan, not a scan of the table)."""

    whole: tuple[str, ...] = ()
    endings: tuple[str, ...] = ()

    def q(self) -> Q:
        match = Q(pk__in=[])
        for digits in self.whole:
            match |= Q(from_rdigits=digits) | Q(to_rdigits=digits)
        for digits in self.endings:
            match |= Q(from_rdigits__startswith=digits) | Q(to_rdigits__startswith=digits)
        return match


def number_search(text: str, region: str) -> NumberSearch | None:
    """The numbers `text` may mean, read by `phonenumbers`: a whole number in `region`
    or with its country code (`+44 ...`, `0044 ...`, `011 44 ...`), and the digits
    typed as the end of a number. None when it is no number (letters, or fewer than
    four digits)."""
    if any(char.isalpha() for char in text):
        return None
    digits = phonenumbers.normalize_digits_only(text)
    if len(digits) < MIN_SUFFIX_DIGITS or len(digits) > 20:
        return None
    stripped = text.strip()
    readings: list[tuple[str, str | None]] = [(stripped, region)]
    # SignalWire's users dial from anywhere: 00 and 011 (North America) are international
    # prefixes whatever the region says.
    for prefix in ("00", "011"):
        if stripped.startswith(prefix):
            readings.append(("+" + digits[len(prefix) :], None))
    whole = []
    for candidate, assumed in readings:
        try:
            number = phonenumbers.parse(candidate, assumed)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
            whole.append(e164[1:][::-1])
    explicit = stripped.startswith(("+", "00", "011"))
    # A whole number given with its country code means that number; anything else may
    # also be the end of a number of another country (or the last digits alone).
    endings = () if whole and explicit else (digits[::-1],)
    return NumberSearch(tuple(dict.fromkeys(whole)), endings)


def is_id_piece(text: str) -> bool:
    """A whole id, or the start of one: hex digits with dashes where a UUID has them."""
    if not _ID_PIECE.match(text):
        return False
    return all((char == "-") == (i in _UUID_DASHES) for i, char in enumerate(text))


def _word(value: str) -> str:
    value = value.strip().lower()
    if value and not _WORD.match(value):
        raise forms.ValidationError("Use letters, digits and dashes only.")
    return value


class RecordingFilters(forms.Form):
    # `from` is a Python keyword: the two date-time fields are added below the class.
    status = forms.CharField(required=False, max_length=32)
    track = forms.CharField(required=False, max_length=32)
    source = forms.ChoiceField(
        required=False,
        choices=[("", "Any")] + [(k, v) for k, v in SOURCE_LABELS.items()],
    )
    stereo = forms.ChoiceField(
        required=False, choices=[("", "Any"), ("yes", "Stereo"), ("no", "Mono")]
    )
    min_duration = forms.IntegerField(required=False, min_value=0, max_value=10**7)
    max_duration = forms.IntegerField(required=False, min_value=0, max_value=10**7)
    min_price = forms.DecimalField(required=False, min_value=0, max_digits=18, decimal_places=6)
    max_price = forms.DecimalField(required=False, min_value=0, max_digits=18, decimal_places=6)
    min_silence = forms.IntegerField(
        required=False, min_value=0, max_value=10**7, label="Longest silence"
    )
    min_left_share = forms.IntegerField(
        required=False, min_value=0, max_value=100, label="Left channel's share of the talking"
    )
    max_left_share = forms.IntegerField(
        required=False, min_value=0, max_value=100, label="Left channel's share of the talking"
    )
    q = forms.CharField(required=False, max_length=MAX_QUERY, strip=True)
    tag = forms.CharField(required=False, max_length=33, strip=True)
    sort = forms.ChoiceField(required=False, choices=[(k, k) for k in SORTS])
    tracks = TRACKS  # the choices the form offers; others are accepted

    def __init__(self, *args, region: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        # Where a typed number without its country code is read (the user's region).
        self.region = region or settings.PHONE_REGION

    def status_options(self) -> list[tuple[str, str]]:
        """(value, label) for the status menu: the status families, and a raw status
        word given in the URL, so the menu shows what the list is filtered by."""
        options = list(STATUS_FAMILIES.items())
        given = self.data.get("status", "").strip().lower()
        if given and given not in STATUS_FAMILIES and _WORD.match(given):
            options.append((given, f"Status “{given}”"))
        return options

    def clean_status(self):
        return _word(self.cleaned_data["status"])

    def clean_track(self):
        return _word(self.cleaned_data["track"])

    def clean_tag(self):
        value = self.cleaned_data["tag"].lower().lstrip("#")
        if value and not notes.TAG.match(value):
            raise forms.ValidationError("A tag is a word of letters, digits and dashes.")
        return value

    def clean_q(self):
        value = self.cleaned_data["q"]
        if not value:
            return value
        piece = value.lower() if is_id_piece(value.lower()) else ""
        numbers = number_search(value, self.region)
        # Anything else may be words of a note or a tag: `filtered` checks, knowing the
        # credential whose notes to read.
        self.cleaned_data["q_numbers"] = numbers
        self.cleaned_data["q_id"] = piece
        return value

    def clean(self):
        data = super().clean()
        for low, high, what in (
            ("from", "to", "date range"),
            ("min_duration", "max_duration", "duration range"),
            ("min_price", "max_price", "price range"),
            ("min_left_share", "max_left_share", "talk share range"),
        ):
            if data.get(low) is not None and data.get(high) is not None and data[low] > data[high]:
                self.add_error(high, f"The {what} ends before it starts.")  # marks the end
        return data

    def is_active(self) -> bool:
        return any(self.data.get(name, "").strip() for name in FILTER_NAMES)

    def mistakes(self) -> list[str]:
        """What is wrong with the filters, one line per field ("From: Enter a valid
        date/time."); empty when they are valid."""
        if self.is_valid():
            return []
        reasons = []
        for name, errors in self.errors.items():
            label = "Filters" if name == "__all__" else self.fields[name].label or name
            reasons.append(f"{label}: {' '.join(map(str, errors))}")
        return reasons

    def checked(self) -> dict:
        """The cleaned filters, or a 400 saying what is wrong."""
        if not self.is_valid():
            raise Problem(400, "These filters are not valid", " ".join(self.mistakes()))
        return self.cleaned_data

    def params(self) -> list[tuple[str, str]]:
        """The filters as given, for links that keep them (sort, pages, CSV)."""
        return [(n, self.data[n]) for n in FILTER_NAMES if self.data.get(n, "").strip()]


for _name, _label in (("from", "From"), ("to", "To")):
    RecordingFilters.base_fields[_name] = forms.DateTimeField(
        required=False,
        label=_label,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )


def filtered(credential, data: dict):
    """The credential's indexed recordings matching cleaned filters, sorted."""
    rows = index.indexed_recordings(credential)
    if data.get("from"):
        rows = rows.filter(created_at__gte=data["from"])
    if data.get("to"):
        rows = rows.filter(created_at__lt=_end(data["to"]))
    if data.get("status") in STATUS_FAMILIES:
        rows = rows.filter(status_family=data["status"])
    elif data.get("status"):
        rows = rows.filter(status=data["status"])
    for name in ("track", "source"):
        if data.get(name):
            rows = rows.filter(**{name: data[name]})
    if data.get("stereo"):
        rows = rows.filter(stereo=data["stereo"] == "yes")
    if data.get("min_duration") is not None:
        rows = rows.filter(duration_seconds__gte=data["min_duration"])
    if data.get("max_duration") is not None:
        rows = rows.filter(duration_seconds__lte=data["max_duration"])
    if data.get("min_price") is not None:
        rows = rows.filter(price__gte=data["min_price"])
    if data.get("max_price") is not None:
        rows = rows.filter(price__lte=data["max_price"])
    rows = _talk_time_match(rows, data)
    if data.get("tag"):
        rows = rows.filter(notes.tagged(credential, data["tag"]))
    if data.get("q"):
        rows = rows.filter(_q_match(credential, data))
    return rows.order_by(*SORTS[data.get("sort") or "-created"])


def _end(to: datetime) -> datetime:
    """Where `to` ends: it includes the minute it names (the last one there is: the end
    of time)."""
    if to.second or to.microsecond:
        return to
    try:
        return to + timedelta(minutes=1)
    except OverflowError:
        return datetime.max.replace(tzinfo=UTC)


def _talk_time_match(rows, data: dict):
    """Talk-time filters: the longest silence, and the left channel's share of the talk."""
    if data.get("min_silence") is not None:
        rows = rows.filter(talk_silence_seconds__gte=data["min_silence"])
    low, high = data.get("min_left_share"), data.get("max_left_share")
    if low is not None or high is not None:
        total = F("talk_left_seconds") + F("talk_right_seconds")
        # Every analysis stores the longest silence with the speaking times: saying so
        # lets the database read the analysed recordings' own index.
        rows = rows.filter(talk_silence_seconds__isnull=False)
        rows = rows.alias(talk_total=total).filter(talk_total__gt=0)
        if low is not None:
            rows = rows.filter(talk_left_seconds__gte=F("talk_total") * (low / 100))
        if high is not None:
            rows = rows.filter(talk_left_seconds__lte=F("talk_total") * (high / 100))
    return rows


ID_COLUMNS = ("recording_id", "leg_id", "call_sid", "conference_id")


def _q_match(credential, data: dict) -> Q:
    """The search box: the ids it may be (whole, or a prefix), the numbers, or words of
    the credential's notes and tags. What is none of these is a 400 that says so."""
    words = notes.matching_recordings(credential, data["q"])
    only_words = not data.get("q_id") and data.get("q_numbers") is None
    if only_words and not index.indexed_recordings(credential).filter(words).exists():
        raise Problem(
            400,
            "These filters are not valid",
            "Search by a phone number (or its last 4 digits or more), by a recording, "
            "leg, call or conference ID, or by words of a note or a tag: no note or "
            f"tag of {credential.label} has “{data['q']}”.",
        )
    match = words
    piece = data.get("q_id", "")
    if piece:
        lookup = "" if len(piece) == 36 else "__startswith"
        for column in ID_COLUMNS:
            match |= Q(**{column + lookup: piece})
    if data.get("q_numbers") is not None:
        match |= data["q_numbers"].q()
    return match


def totals(rows) -> PageTotals:
    """One grouped query: count, seconds and price per currency (never added up)."""
    return _folded(
        rows.order_by()
        .values("price_unit")
        .annotate(n=Count("key"), seconds=Sum("duration_seconds"), price=Sum("price"))
        .order_by("price_unit")
    )


def _folded(groups) -> PageTotals:
    count = seconds = 0
    prices: dict[str, Decimal] = {}
    for group in groups:
        count += group["n"]
        seconds += group["seconds"] or 0
        if group["price_unit"] and group["price"] is not None:
            prices[group["price_unit"]] = index.exact(group["price"])
    return PageTotals(count, seconds, prices)


# The filters the running totals keep (recordings_app.rollups); `sort` changes no total.
ROLLED_UP = frozenset({"from", "to", "status", "track", "source", "stereo", "sort"})


def filtered_totals(credential, data: dict, rows) -> PageTotals:
    """totals(rows) for `rows = filtered(credential, data)`, from the running totals when
    every filter given is one they keep: the whole UTC days of the range from DayFigures,
    the hours at its ends from the rows. A status family of a million recordings is then
    a few thousand summed rows, not a million; anything else (a duration, a price, the
    search box, talk time, a status word) reads the rows."""
    given = {name for name, value in data.items() if value not in (None, "")}
    status = data.get("status")
    if not given <= ROLLED_UP or (status and status not in STATUS_FAMILIES):
        return totals(rows)
    start, end = data.get("from"), data.get("to") and _end(data["to"])
    first_day = None if start is None else -(-int(start.timestamp()) // rollups.DAY)
    end_day = None if end is None else int(end.timestamp()) // rollups.DAY
    if first_day is not None and end_day is not None and first_day >= end_day:
        return totals(rows)  # within a day or two: the rows are few
    if max(first_day or 0, end_day or 0) >= LAST_DAY:
        return totals(rows)  # a range ending past 9999: no midnight there to cut at
    days = DayFigures.objects.filter(credential=credential)
    ends = []
    if first_day is not None:
        days = days.filter(day__gte=first_day)
        ends.append(rows.filter(created_at__lt=_moment(first_day * rollups.DAY)))
    if end_day is not None:
        days = days.filter(day__lt=end_day)
        ends.append(rows.filter(created_at__gte=_moment(end_day * rollups.DAY)))
    if status:
        days = days.filter(status_family=status)
    for name in ("track", "source"):
        if data.get(name):
            days = days.filter(**{name: data[name]})
    if data.get("stereo"):
        days = days.filter(stereo=data["stereo"] == "yes")
    parts = [totals(end_rows) for end_rows in ends]
    summed = days.values("price_unit").annotate(
        n=Sum("count"), seconds=Sum("seconds"), price=Sum("price")
    )
    parts.append(_folded(summed))
    prices: dict[str, Decimal] = {}
    for part in parts:
        for currency, price in part.price_by_currency.items():
            prices[currency] = prices.get(currency, Decimal(0)) + price
    return PageTotals(
        sum(part.count for part in parts),
        sum(part.seconds for part in parts),
        {currency: prices[currency] for currency in sorted(prices)},
    )


LAST_DAY = (datetime.max.replace(tzinfo=UTC) - datetime(1970, 1, 1, tzinfo=UTC)).days


def _moment(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def page_of(rows, size: int, number: str | None, count: int | None = None):
    """The page of `rows`; `count`, when known, spares the pager counting them again."""
    paginator = Paginator(rows, size) if count is None else _Counted(rows, size, count)
    try:
        return paginator.page(number or 1)
    except InvalidPage:
        raise Problem(
            400, "No such page", "That page of results does not exist. Start at page 1."
        ) from None


def link(params: list[tuple[str, str]], **changes) -> str:
    """?query with the current filters and some values changed (None drops one)."""
    merged = dict(params)
    for name, value in changes.items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = str(value)
    return "?" + urlencode(merged)


class _Counted(Paginator):
    """A pager told how many there are."""

    def __init__(self, rows, size: int, count: int):
        super().__init__(rows, size)
        self.known = count

    @cached_property
    def count(self) -> int:
        return self.known
