"""Per-city, per-day sequence numbers for human-readable codes (events, cases)."""

from datetime import date

from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone


class DailyCounter(models.Model):
    """The last number given out in a city on a day. Concrete models name their own
    unique constraint on (city_code, day)."""

    city_code = models.CharField(max_length=4)
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.city_code} {self.day} {self.last}"


def daily_number(counter: type[DailyCounter], city_code: str) -> tuple[date, int]:
    """The next number of ``city_code`` today: one UPDATE … RETURNING (atomic, one
    round trip), creating the day's row on the first call. Numbers are unique, not
    gap-free (a caller that later fails leaves a gap)."""
    day = timezone.localdate()
    table = counter._meta.db_table
    bump = (
        f"UPDATE {table} SET last = last + 1 "  # noqa: S608 (our own table name)
        "WHERE city_code = %s AND day = %s RETURNING last"
    )
    with connection.cursor() as cur:
        cur.execute(bump, [city_code, day])
        row = cur.fetchone()
    if row is None:  # the city's first number of the day
        try:
            with transaction.atomic():
                counter._default_manager.create(city_code=city_code, day=day, last=1)
            return day, 1
        except IntegrityError:  # another request created it first
            with connection.cursor() as cur:
                cur.execute(bump, [city_code, day])
                row = cur.fetchone()
    assert row is not None
    return day, int(row[0])
