"""Index rows built by hand, for exact figures in the search and costs tests."""

import uuid
from datetime import UTC
from decimal import Decimal

from django.utils import timezone

from recordings_app import rollups
from recordings_app.models import IndexedRecording
from recordings_app.signalwire import status_family


def index_row(credential, created_at, *, price="0.0025", unit="USD", seconds=60, **fields):
    created_at = created_at.astimezone(UTC)
    values = {
        "status": "completed",
        "track": "inbound",
        "stereo": False,
        "source": "pstn",
        "leg_id": str(uuid.uuid4()),
    }
    values.update(fields)
    # As the sync stores it: derived from the status word and the error code.
    values.setdefault("status_family", status_family(values["status"], values.get("error_code")))
    row = IndexedRecording.objects.create(
        credential=credential,
        recording_id=values.pop("recording_id", str(uuid.uuid4())),
        created_at=created_at,
        created_epoch=int(created_at.timestamp()),
        updated_at=created_at,
        duration_seconds=seconds,
        price=None if price is None else Decimal(price),
        price_unit=unit,
        last_seen=timezone.now(),
        **values,
    )
    # As the sync does after storing a page: the spend report's running totals.
    rollups.refresh(credential.pk, rollups.days_of([row.created_epoch]))
    return row
