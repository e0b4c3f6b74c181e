"""English dates and times as the groups in the report read them: day before month, 24 hours.
Django's default English short form ("12/04/2026 6 p.m.") reads as 12 April in the UK."""

SHORT_DATETIME_FORMAT = "j M Y, H:i"
TIME_FORMAT = "H:i"
