"""German dates and times in one form each ("1. Juli 2019", "1. Juli 2019, 06:39"), where
Django's defaults put "01.12.2026 06:39" beside "1. Juli 2019"."""

DATE_FORMAT = SHORT_DATE_FORMAT = "j. F Y"
DATETIME_FORMAT = SHORT_DATETIME_FORMAT = "j. F Y, H:i"
TIME_FORMAT = "H:i"
