"""English dates as the site writes them: 5 November 2026; 5 Nov 2026, 14:30 (24-hour clock)."""

DATE_FORMAT = "j F Y"
DATETIME_FORMAT = "j F Y, H:i"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
