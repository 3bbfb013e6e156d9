"""Values of the frame contract (docs/architecture.md) that every stage must agree on: the marker stamps, and
how a date or timestamp column reads as numbers.

A neutral leaf module: the reader produces the markers, the model keeps them as point masses, the writer turns
them back into the database's own words; none of these stages may import another for three constants.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["INFINITY_US", "MARKERS_US", "NEG_INFINITY_US", "ZERO_DATE_US", "utc_microseconds"]

#: Microsecond stamps standing for values no calendar date is: PostgreSQL's 'infinity' and '-infinity' and
#: MariaDB's zero date '0000-00-00'. They are the extreme ends of datetime64[us] (about year +-290000, past
#: every date a database holds apart from PostgreSQL's 294247..294276 AD), so they sort where they mean and a
#: column carrying one keeps it exactly as a point mass.
INFINITY_US = int(np.iinfo(np.int64).max)
NEG_INFINITY_US = int(np.iinfo(np.int64).min) + 1
ZERO_DATE_US = NEG_INFINITY_US + 366 * 86_400 * 10**6  # a year above: apart from -infinity in float seconds too
MARKERS_US = (INFINITY_US, NEG_INFINITY_US, ZERO_DATE_US)


def utc_microseconds(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """A date or timestamp column as int64 microseconds since 1970-01-01 UTC (tz-aware values converted to UTC,
    text parsed; 0 where NULL) and its NULL mask: the numbers rules compare and move dates by."""
    t = s
    if not pd.api.types.is_datetime64_any_dtype(t.dtype):
        t = pd.to_datetime(t, errors="coerce")
    if getattr(t.dt, "tz", None) is not None:
        t = t.dt.tz_convert("UTC").dt.tz_localize(None)
    arr = t.to_numpy(dtype="datetime64[us]")
    null = np.isnat(arr)
    v = arr.view("int64").copy()
    v[null] = 0
    return v, null
