"""What a batch write records: its code, the code counters, and the history payloads.

The services use these for one batch at a time, and demo's bulk loader for a
million, so a batch looks the same whichever way it was written.
"""

from django.db import connection


def batch_code(packhouse_code, day, number):
    """PH1-20260212-0042: the packhouse, the local intake day, and that day's sequence."""
    return f"{packhouse_code}-{day:%Y%m%d}-{number:04d}"


def reserve_numbers(wanted):
    """{(packhouse id, day): how many} -> {(packhouse id, day): the first of the numbers reserved}.

    One upsert statement, so two clerks at the same packhouse can never get
    the same number; the counter rows stay locked until the transaction
    commits. Keys are taken in order, so two bulk loads cannot deadlock.
    """
    keys = sorted(wanted)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO batch_code_counters (packhouse_id, day, last) "
            "SELECT * FROM unnest(%s::bigint[], %s::date[], %s::integer[]) "
            "ON CONFLICT (packhouse_id, day) DO UPDATE SET last = batch_code_counters.last + EXCLUDED.last "
            "RETURNING packhouse_id, day, last",
            [[pk for pk, _ in keys], [day for _, day in keys], [wanted[key] for key in keys]],
        )
        return {(pk, day): last - wanted[(pk, day)] + 1 for pk, day, last in cursor.fetchall()}


# History payloads, one builder per event. Weights go in as text (str of a Decimal, or the loader's
# ready-made "1234.56") so that JSON keeps them exact.

def created_payload(*, batch_code, grower_code, packhouse_code, bin_count, gross_weight_kg, tare_weight_kg,
                    block=None, season_code=None, bins=(), without_clearance=False, confirmed_unusual=()):
    payload = {
        "batch_code": batch_code, "grower": grower_code, "packhouse": packhouse_code, "bin_count": bin_count,
        "gross_weight_kg": str(gross_weight_kg), "tare_weight_kg": str(tare_weight_kg),
    }
    if block:
        payload["block"] = block
    if season_code:
        payload["season"] = season_code
    if bins:
        payload["bins"] = list(bins)
    if without_clearance:
        # mrl_gate=warn let it in: the history says so.
        payload["without_clearance"] = True
    if confirmed_unusual:
        # The clerk (or integration) confirmed figures out of the ordinary: what they were told, word for word.
        payload["confirmed_unusual"] = list(confirmed_unusual)
    return payload


def status_changed_payload(reason=""):
    return {"reason": reason} if reason else {}


def packout_payload(values, previous=None):
    """`values` and `previous` by field name; `previous` only when a pack-out is corrected."""
    payload = {name: str(value) for name, value in values.items()}
    if previous and any(value is not None for value in previous.values()):
        payload["previous"] = {name: None if value is None else str(value) for name, value in previous.items()}
    return payload


def edited_payload(changes):
    return {"changes": changes}


def corrected_payload(changes, reason, confirmed_unusual=()):
    payload = {"changes": changes, "reason": reason}
    if confirmed_unusual:
        # The manager confirmed figures out of the ordinary: the history says what they were told.
        payload["confirmed_unusual"] = list(confirmed_unusual)
    return payload


def qc_reject_reason(top, sample_size):
    """Why QC rejected a batch: its top defects, [(name, count)], as shares of the sample."""
    return "QC reject: " + (", ".join(f"{name} {count * 100 / sample_size:.1f}%" for name, count in top)
                            or "see the inspection")


def qc_payload(*, inspection_id, result, sample_size, defects):
    return {"inspection": inspection_id, "result": result, "sample_size": sample_size, "defects": defects}
