"""Notes and tags on a recording, per credential.

Everyone who uses a credential (its owner, and those it is shared with) sees the same
notes and tags, as they see the same recordings. A note may name a moment in the audio
(`at_seconds`); its author may edit it for EDIT_WINDOW after writing it, then it is
kept as written. Adding, editing, tagging and untagging are audited. Note text is the
user's own words: templates escape it, and it is at most MAX_NOTE characters.
"""

import re
from datetime import timedelta

from django import forms
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from recordings_app import audit
from recordings_app.access import LoggedInRequest
from recordings_app.errors import Problem
from recordings_app.models import Credential, RecordingNote, RecordingTag

EDIT_WINDOW = timedelta(minutes=15)
MAX_NOTE = 2000
MAX_TAGS = 20  # on one recording
TAG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
# "2:31", "1:02:31" or "151" (seconds); at most 24 hours into a recording.
_MOMENT = re.compile(r"^(?:(\d{1,2}):)?(?:(\d{1,2}):)?(\d{1,5})$")
MAX_MOMENT = 24 * 3600


def parse_moment(text: str) -> int | None:
    """Seconds from "2:31", "1:02:31" or "151"; None for an empty field. Anything else
    is a ValidationError that says what to type."""
    text = (text or "").strip()
    if not text:
        return None
    match = _MOMENT.match(text)
    if not match:
        raise forms.ValidationError("Give the moment as 2:31, 1:02:31 or in seconds.")
    first, second, last = match.groups()
    parts = [int(p) for p in (first, second, last) if p is not None]
    if len(parts) > 1 and parts[-1] >= 60 or len(parts) == 3 and parts[1] >= 60:
        raise forms.ValidationError("Minutes and seconds go up to 59.")
    seconds = 0
    for part in parts:
        seconds = seconds * 60 + part
    if seconds > MAX_MOMENT:
        raise forms.ValidationError("That is later than any recording lasts.")
    return seconds


class MomentField(forms.CharField):
    def clean(self, value):
        return parse_moment(super().clean(value))


class NoteForm(forms.Form):
    text = forms.CharField(max_length=MAX_NOTE, strip=True, widget=forms.Textarea)
    at = MomentField(required=False, max_length=12)


class TagForm(forms.Form):
    tags = forms.CharField(max_length=200, strip=True)

    def clean_tags(self) -> list[str]:
        names = [name.strip().lower() for name in re.split(r"[,\s]+", self.cleaned_data["tags"])]
        names = [name.lstrip("#") for name in names if name]
        bad = [name for name in names if not TAG.match(name)]
        if bad:
            raise forms.ValidationError(
                "A tag is a word of up to 32 letters, digits, dashes or underscores "
                f"(not “{bad[0][:40]}”)."
            )
        return list(dict.fromkeys(names))


def notes_of(credential: Credential, recording_id: str):
    return RecordingNote.objects.filter(credential=credential, recording_id=recording_id)


def tags_of(credential: Credential, recording_id: str):
    return RecordingTag.objects.filter(credential=credential, recording_id=recording_id)


def is_editable(note: RecordingNote, user) -> bool:
    """Its author may still change it: written less than EDIT_WINDOW ago."""
    return note.author_id == user.pk and timezone.now() - note.created_at < EDIT_WINDOW


def add_note(
    request: LoggedInRequest, credential: Credential, recording_id: str, text: str, at: int | None
) -> RecordingNote:
    note = RecordingNote.objects.create(
        credential=credential,
        recording_id=recording_id,
        author=request.user,
        author_name=request.user.get_username(),
        text=text,
        at_seconds=at,
    )
    audit.record(
        request,
        audit.Action.NOTE_ADD,
        recording_id=recording_id,
        credential=credential,
        detail=f"Note {note.pk}" + (f" at {at} s" if at is not None else ""),
    )
    return note


def edit_note(
    request: HttpRequest, note: RecordingNote, text: str, at: int | None
) -> RecordingNote:
    """Change a note, if its author is asking within the window: otherwise a 403 that
    says why (the page offers no edit button then; this is the server's own check)."""
    if note.author_id != request.user.pk:
        raise Problem(403, "Not your note", "Only the author of a note may change it.")
    if not is_editable(note, request.user):
        raise Problem(
            403,
            "This note can no longer be changed",
            "A note can be edited for 15 minutes after it was written; after that it is "
            "kept as written. Add a new note instead.",
        )
    note.text, note.at_seconds, note.edited_at = text, at, timezone.now()
    note.save(update_fields=["text", "at_seconds", "edited_at"])
    audit.record(
        request,
        audit.Action.NOTE_EDIT,
        recording_id=note.recording_id,
        credential=note.credential,
        detail=f"Note {note.pk}",
    )
    return note


def add_tags(
    request: LoggedInRequest, credential: Credential, recording_id: str, names: list[str]
) -> list[str]:
    """The tags of `names` the recording did not have yet, added and each audited."""
    have = set(tags_of(credential, recording_id).values_list("name", flat=True))
    new = [name for name in names if name not in have]
    if len(have) + len(new) > MAX_TAGS:
        raise Problem(400, "Too many tags", f"A recording can have up to {MAX_TAGS} tags.")
    added = []
    for name in new:
        try:
            with transaction.atomic():
                RecordingTag.objects.create(
                    credential=credential,
                    recording_id=recording_id,
                    name=name,
                    added_by=request.user,
                )
        except IntegrityError:  # someone else added it meanwhile
            continue
        audit.record(
            request,
            audit.Action.TAG_ADD,
            recording_id=recording_id,
            credential=credential,
            detail=name,
        )
        added.append(name)
    return added


def remove_tag(request: HttpRequest, credential: Credential, recording_id: str, name: str) -> bool:
    removed, _ = tags_of(credential, recording_id).filter(name=name).delete()
    if removed:
        audit.record(
            request,
            audit.Action.TAG_REMOVE,
            recording_id=recording_id,
            credential=credential,
            detail=name,
        )
    return bool(removed)


def matching_recordings(credential: Credential, text: str) -> Q:
    """The search box's words: recordings of the credential with a note containing them
    (any case) or a tag spelled so (without a leading #).

    As the ids themselves, read first: a subquery in the search's OR made PostgreSQL
    test it against every recording of the account (2.6 s over 5,000,000) instead of
    answering the id and number parts from their indexes."""
    tag = text.strip().lower().lstrip("#")
    with_note = RecordingNote.objects.filter(credential=credential, text__icontains=text.strip())
    with_tag = RecordingTag.objects.filter(credential=credential, name=tag)
    ids = {*with_note.values_list("recording_id", flat=True)}
    ids.update(with_tag.values_list("recording_id", flat=True))
    return Q(recording_id__in=sorted(ids))


def tagged(credential: Credential, tag: str) -> Q:
    """The tag filter: recordings of the credential carrying `tag`."""
    names = RecordingTag.objects.filter(credential=credential, name=tag)
    return Q(recording_id__in=names.values("recording_id"))


def tag_names(credential: Credential) -> list[str]:
    """Every tag the credential's recordings carry, for the filter's suggestions."""
    names = RecordingTag.objects.filter(credential=credential).values_list("name", flat=True)
    return sorted(set(names))


def panel(request: HttpRequest, credential: Credential, recording_id: str) -> dict:
    """What the recording page's notes panel shows: the notes (with whether the user may
    still edit each), the tags, and empty forms."""
    return {
        "recording_id": recording_id,
        "notes": [
            (note, is_editable(note, request.user)) for note in notes_of(credential, recording_id)
        ],
        "tags": list(tags_of(credential, recording_id).values_list("name", flat=True)),
        "note_max": MAX_NOTE,
    }
