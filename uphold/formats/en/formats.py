"""English dates and times as the groups in the report read them: day before month, 24 hours,
one form for every date ("1 Jul 2019") and every date with a time ("1 Jul 2019, 06:39").
Django's default English forms ("July 1, 2019", "12/04/2026 6 p.m.") mix on one page, and the
short one reads as 12 April in the UK."""

DATE_FORMAT = SHORT_DATE_FORMAT = "j M Y"
DATETIME_FORMAT = SHORT_DATETIME_FORMAT = "j M Y, H:i"
TIME_FORMAT = "H:i"
